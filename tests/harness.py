"""Starts the real Rapport stack (actions, Rasa, web app) on free local ports for tests."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.adapters.rasa_api import admin_token

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODEL = Path(os.environ.get("RAPPORT_MODEL", ROOT / "models" / "rapport.tar.gz"))
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
"""All the processes of a test stack get from the developer's shell; the rest is set here."""
# Request body limits (Sanic's REQUEST_MAX_SIZE), the same as in the Procfile.
RASA_MAX_BODY = 4 * 1024 * 1024
ACTIONS_MAX_BODY = 16 * 1024 * 1024


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 60,
) -> tuple[int, Any]:
    """One HTTP request with urllib; returns (status, parsed JSON or text)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, payload = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    text = payload.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@dataclass
class Stack:
    """A running Rapport: where to reach it and how to inspect it."""

    workdir: Path
    env: dict[str, str]
    rasa_url: str
    actions_url: str
    web_url: str
    jwt_secret: str
    rest_token: str
    action_secret: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def rest_headers(self) -> dict[str, str]:
        """What a shop's server sends the REST webhook: its bearer token."""
        return {"Authorization": f"Bearer {self.rest_token}"}

    def rest(self, body: Any, *, raw: bytes | None = None) -> tuple[int, Any]:
        """POST `body` to the REST webhook with the token; (status, parsed answer)."""
        url = f"{self.rasa_url}/webhooks/rest/webhook"
        return http_json("POST", url, body, raw=raw, headers=self.rest_headers())

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send a shopper message over the REST webhook; the bot's replies."""
        status, replies = self.rest({"sender": sender, "message": text})
        assert status == 200, (status, replies)
        assert isinstance(replies, list)
        return replies

    def texts(self, sender: str, text: str) -> list[str]:
        return [r.get("text", "") for r in self.say(sender, text)]

    def api_headers(self) -> dict[str, str]:
        """Authorization for Rasa's HTTP API: a fresh admin JWT, as Rapport's own client."""
        return {"Authorization": f"Bearer {admin_token(self.jwt_secret)}"}

    def tracker(self, sender: str) -> dict[str, Any]:
        """Every event of conversation `sender` (all sessions), through Rasa's API.

        A REST sender `alice` is the conversation `rest:alice` (see `rest_conversation`).
        """
        status, body = http_json(
            "GET",
            f"{self.rasa_url}/conversations/{sender}/tracker?include_events=ALL",
            headers=self.api_headers(),
        )
        assert status == 200, (status, body)
        assert isinstance(body, dict)
        return body

    @staticmethod
    def rest_conversation(sender: str) -> str:
        """Rasa's conversation id of the REST sender `sender`."""
        return f"rest:{sender}"

    def new_session(self, sender: str) -> None:
        """Start a new conversation session for `sender`, as after a long pause."""
        status, _ = http_json(
            "POST",
            f"{self.rasa_url}/conversations/{sender}/tracker/events",
            {"event": "session_started"},
            headers=self.api_headers(),
        )
        assert status == 200

    def rapport(self, *args: str) -> str:
        """Run the `rapport` CLI against this stack's database."""
        done = self.rapport_run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def rapport_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the `rapport` CLI against this stack; whatever its exit status."""
        return subprocess.run(
            [str(BIN / "rapport"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def export(self) -> list[dict[str, Any]]:
        output = self.rapport("profiles", "export", "--format", "jsonl")
        return [json.loads(line) for line in output.splitlines() if line.strip()]

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.workdir.glob("*.log"))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout}s:\n{log.read_text()[-4000:]}")


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` as the Procfile does: `umask 077 && exec ...`."""
    handle = log.open("wb")
    return subprocess.Popen(
        ["/bin/sh", "-c", 'umask 077 && exec "$@"', "sh", *cmd],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_stack(
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    sql_trackers: bool = False,
) -> Stack:
    """Migrate a fresh SQLite store in `workdir`, then start actions, Rasa and the web app.

    Rasa keeps its trackers in memory (as `make run` does), or in SQLite under
    `workdir` with `sql_trackers=True` (Rasa's SQL tracker store, with the replacing
    save of bot/channels/trackers.py). As in the Procfile, Rasa's HTTP API is on, only
    with a JWT (HS256, RAPPORT_RASA_JWT_SECRET), on 127.0.0.1, and both servers cap
    request bodies (SANIC_REQUEST_MAX_SIZE).
    """
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}: run `make train`")
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    jwt_secret = secrets.token_hex(32)
    rest_token, action_secret = secrets.token_hex(32), secrets.token_hex(32)
    env = {
        **{name: os.environ[name] for name in PASSED_THROUGH if name in os.environ},
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SANIC_HOST": "127.0.0.1",
        "RAPPORT_DATABASE_URL": f"sqlite:///{workdir / 'rapport.db'}",
        "RAPPORT_WEB_PORT": str(web_port),
        "RAPPORT_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "RAPPORT_SHOP_NAME": "Calmly",
        "RAPPORT_RASA_JWT_SECRET": jwt_secret,
        "RAPPORT_REST_TOKEN": rest_token,
        "RAPPORT_ACTION_SECRET": action_secret,
        "RAPPORT_ACTIONS_PORT": str(actions_port),
        "RAPPORT_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        # Tests talk faster than people: the production default (20 a minute) is
        # exercised by tests that ask for it.
        "RAPPORT_MESSAGE_RATE": "1000/minute",
        "RAPPORT_SOURCE_RATE": "10000/minute",
        "RAPPORT_CONNECTION_RATE": "1000/minute",
        **(extra_env or {}),
    }
    endpoints = workdir / "endpoints.yml"
    trackers = (
        "tracker_store:\n  type: bot.channels.trackers.ReplaceableSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{workdir / "trackers.db"}"\n'
        if sql_trackers
        else "tracker_store:\n  type: bot.channels.trackers.ForgettingInMemoryTrackerStore\n"
    )
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "  headers:\n    X-Rapport-Action-Secret: ${RAPPORT_ACTION_SECRET}\n"
        f"{trackers}"
    )
    stack = Stack(
        workdir=workdir,
        env=env,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        actions_url=f"http://127.0.0.1:{actions_port}",
        web_url=f"http://127.0.0.1:{web_port}",
        jwt_secret=jwt_secret,
        rest_token=env["RAPPORT_REST_TOKEN"],
        action_secret=env["RAPPORT_ACTION_SECRET"],
    )
    stack.rapport("db", "upgrade")
    rasa = str(BIN / "rasa")
    try:
        actions = _spawn(
            [str(BIN / "rapport"), "actions"],
            {**env, "SANIC_REQUEST_MAX_SIZE": str(ACTIONS_MAX_BODY)},
            workdir / "actions.log",
        )
        stack.processes.append(actions)
        server = _spawn(
            [
                rasa,
                "run",
                "--model",
                str(MODEL),
                "--interface",
                "127.0.0.1",
                "--port",
                str(rasa_port),
                "--enable-api",
                f"--jwt-secret={jwt_secret}",  # one argument even if it starts with "-"
                "--jwt-method",
                "HS256",
                "--credentials",
                str(ROOT / "credentials.yml"),
                "--endpoints",
                str(endpoints),
            ],
            {**env, "SANIC_REQUEST_MAX_SIZE": str(RASA_MAX_BODY)},
            workdir / "rasa.log",
        )
        stack.processes.append(server)
        web = _spawn([str(BIN / "rapport"), "web"], env, workdir / "web.log")
        stack.processes.append(web)
        _wait(f"{stack.actions_url}/health", actions, workdir / "actions.log", 120)
        _wait(f"{stack.rasa_url}/version", server, workdir / "rasa.log", 240)
        _wait(f"{stack.web_url}/healthz", web, workdir / "web.log", 60)
    except BaseException:
        stack.stop()
        raise
    return stack
