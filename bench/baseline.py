"""Rasa's own starter bot (`rasa init --no-prompt`) as the baseline, trained once and cached.

The trained starter project lives in `var/bench/starter/rasa-<version>/` (its data,
config and `models/*.tar.gz`). A re-run with the same Rasa version reuses it; delete
that folder (or `make clean`) to retrain. Each run serves a temporary copy of it.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.load import Script
from bench.servers import BotServer, first_answer
from tests.harness import free_port

BIN = Path(sys.executable).parent
INIT_TIMEOUT_S = 900

# The starter bot's own intents (its data/nlu.yml): greet, mood_great, goodbye, bot_challenge.
STARTER_SCRIPT = Script(
    bot="starter",
    messages=("hi", "I am feeling great", "bye", "are you a bot?", "hello"),
)


def rasa_version() -> str:
    """The installed Rasa version (the starter bot's cache key)."""
    return importlib.metadata.version("rasa")


def bench_env() -> dict[str, str]:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SANIC_HOST": "127.0.0.1",
    }


def _has_model(project: Path) -> bool:
    return any((project / "models").glob("*.tar.gz"))


def ensure_starter(cache_root: Path) -> tuple[Path, bool]:
    """The cached, trained starter project for this Rasa version; True if it was just trained."""
    project = cache_root / f"rasa-{rasa_version()}"
    if _has_model(project):
        return project, False
    cache_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_root, prefix=".init-") as scratch:
        init_dir = Path(scratch) / "starter"
        init_dir.mkdir()
        log = Path(scratch) / "init.log"
        with log.open("wb") as handle:
            done = subprocess.run(
                [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(init_dir)],
                cwd=scratch,
                env=bench_env(),
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=INIT_TIMEOUT_S,
            )
        if done.returncode != 0 or not _has_model(init_dir):
            raise RuntimeError(f"rasa init failed:\n{log.read_text(errors='replace')[-4000:]}")
        shutil.rmtree(project, ignore_errors=True)
        init_dir.rename(project)
    return project, True


def start_starter(project: Path, workdir: Path) -> BotServer:
    """Serve a copy of the starter project on a free port; start-up timed to the first answer."""
    served = workdir / "starter"
    shutil.copytree(project, served)
    port = free_port()
    log = (workdir / "starter-rasa.log").open("wb")
    start = time.monotonic()
    process = subprocess.Popen(
        [str(BIN / "rasa"), "run", "--model", str(served / "models"),
         "--interface", "127.0.0.1", "--port", str(port), "--enable-api"],
        cwd=served, env=bench_env(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    rasa_url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        _stop_group(process)
        log.close()

    try:
        first_answer(rasa_url, "bench-startup", "hi", alive=lambda: process.poll() is None)
    except BaseException:
        stop()
        tail = (workdir / "starter-rasa.log").read_text(errors="replace")[-4000:]
        print(f"starter bot log (tail):\n{tail}", file=sys.stderr)
        raise
    return BotServer(
        name="starter",
        rasa_url=rasa_url,
        pid=process.pid,
        stop=stop,
        startup_s=time.monotonic() - start,
    )


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process group this bench started (by its id), killing it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
