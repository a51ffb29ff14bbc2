"""Running bots for the bench: Rapport through tests.harness, plus shared process helpers."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import webhook_url
from tests.harness import http_json, start_stack


@dataclass
class BotServer:
    """A Rasa server under test: where it answers, its process id, how to stop it."""

    name: str
    rasa_url: str
    pid: int
    stop: Callable[[], None]
    startup_s: float = 0.0
    extra_pids: dict[str, int] = field(default_factory=dict)
    count_profiles: Callable[[], int] | None = None


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory of a process from /proc: current (VmRSS) and peak (VmHWM), in KiB."""
    wanted = {"VmRSS": "rss_kib", "VmHWM": "peak_rss_kib"}
    found: dict[str, int] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        key, _, value = line.partition(":")
        if key in wanted:
            found[wanted[key]] = int(value.split()[0])
    return found


def first_answer(
    rasa_url: str,
    sender: str,
    message: str,
    *,
    alive: Callable[[], bool] = lambda: True,
    timeout_s: float = 300.0,
) -> None:
    """Poll the webhook (bounded by `timeout_s`) until the bot answers `message`."""
    url = webhook_url(rasa_url)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the server behind {rasa_url} exited before answering")
        try:
            status, replies = http_json("POST", url, {"sender": sender, "message": message})
        except (urllib.error.URLError, OSError):
            status, replies = 0, None
        if status == 200 and isinstance(replies, list) and replies:
            return
        time.sleep(0.25)
    raise RuntimeError(f"{rasa_url} gave no answer within {timeout_s:.0f}s")


def transcript(rasa_url: str, messages: Sequence[str], sender: str) -> list[dict[str, Any]]:
    """One whole conversation, what the shopper said and the texts the bot answered."""
    url = webhook_url(rasa_url)
    turns: list[dict[str, Any]] = []
    for message in messages:
        _, replies = http_json("POST", url, {"sender": sender, "message": message})
        texts = [r.get("text", "") for r in replies] if isinstance(replies, list) else []
        turns.append({"shopper": message, "bot": texts})
    return turns


def start_rapport(workdir: Path) -> BotServer:
    """Rapport's full stack with a fresh SQLite store; start-up timed to the first answer.

    The time includes what `start_stack` does before Rasa answers: migrating the fresh
    store and starting the action server and web app beside the Rasa server.
    """
    start = time.monotonic()
    stack = start_stack(workdir)
    try:
        server = stack.processes[1]
        first_answer(stack.rasa_url, "bench-startup", "hi", alive=lambda: server.poll() is None)
    except BaseException:
        stack.stop()
        raise
    actions, rasa, web = (process.pid for process in stack.processes)
    return BotServer(
        name="rapport",
        rasa_url=stack.rasa_url,
        pid=rasa,
        stop=stack.stop,
        startup_s=time.monotonic() - start,
        extra_pids={"action server": actions, "web app": web},
        count_profiles=lambda: _complete_profiles(stack.export()),
    )


def _complete_profiles(profiles: list[dict[str, object]]) -> int:
    """How many exported profiles hold all three answers of the bench conversation."""
    wanted = {"contact_channels", "contact_frequency", "motivations"}
    complete = 0
    for profile in profiles:
        attributes = profile.get("attributes")
        if isinstance(attributes, dict) and wanted <= attributes.keys():
            complete += 1
    return complete
