"""Web chat session tokens: server-issued, signed, expiring; anything else is a fresh session."""

from __future__ import annotations

import base64
import os
import stat
import string
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.adapters.chat_sessions import (
    MIN_SECRET_CHARS,
    TOKEN_MAX_AGE,
    SessionTokens,
    load_or_create_secret,
    session_tokens,
)
from bot.config import load_settings
from tests.conftest import Clock

SECRET = "s" * 40
OTHER_SECRET = "o" * 40
SESSION = "0123456789abcdef0123456789abcdef"
T0 = datetime.fromtimestamp(1_800_000_000, tz=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def tokens(clock: Clock) -> SessionTokens:
    return SessionTokens(SECRET, clock=clock.time)


def test_a_token_resumes_the_session_it_was_issued_for(tokens: SessionTokens) -> None:
    token = tokens.issue(SESSION)

    assert tokens.verify(token) == SESSION
    session = tokens.start(token)
    assert session.resumed and session.session_id == SESSION
    assert tokens.verify(session.token) == SESSION


def test_a_token_is_valid_for_thirty_days_then_expires(tokens: SessionTokens, clock: Clock) -> None:
    token = tokens.issue(SESSION)
    assert timedelta(days=30) == TOKEN_MAX_AGE

    clock.now = T0 + TOKEN_MAX_AGE
    assert tokens.verify(token) == SESSION
    clock.advance(seconds=1)
    assert tokens.verify(token) is None
    fresh = tokens.start(token)
    assert not fresh.resumed and fresh.session_id != SESSION


def test_resuming_issues_a_new_token_so_a_used_session_stays_alive(
    tokens: SessionTokens, clock: Clock
) -> None:
    first = tokens.issue(SESSION)
    clock.now = T0 + TOKEN_MAX_AGE - timedelta(seconds=60)
    renewed = tokens.start(first).token

    clock.now = T0 + TOKEN_MAX_AGE + timedelta(seconds=60)
    assert tokens.verify(first) is None
    assert tokens.verify(renewed) == SESSION


def test_a_token_from_the_future_is_not_valid(tokens: SessionTokens, clock: Clock) -> None:
    clock.now = T0 + timedelta(seconds=3600)
    token = tokens.issue(SESSION)
    clock.now = T0

    assert tokens.verify(token) is None


def test_a_token_signed_with_another_secret_is_not_valid(clock: Clock) -> None:
    forged = SessionTokens(OTHER_SECRET, clock=clock.time).issue(SESSION)

    assert SessionTokens(SECRET, clock=clock.time).verify(forged) is None


def _tamper(token: str, part: int) -> str:
    pieces = token.split(".")
    piece = pieces[part]
    pieces[part] = piece[:-1] + ("A" if piece[-1] != "A" else "B")
    return ".".join(pieces)


@pytest.mark.parametrize("part", [0, 1, 2], ids=["session id", "timestamp", "signature"])
def test_a_tampered_token_is_not_valid(tokens: SessionTokens, part: int) -> None:
    token = tokens.issue(SESSION)
    tampered = token.replace(SESSION, "f" * 32, 1) if part == 0 else _tamper(token, part)

    assert tampered != token
    assert tokens.verify(tampered) is None


def test_only_the_signature_as_issued_is_valid(tokens: SessionTokens) -> None:
    """A 32-byte signature is 43 base64 characters: decoding drops the last one's two spare
    bits, so four spellings decode to the same bytes. Only the one issued is valid."""
    token = tokens.issue(SESSION)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    last = alphabet.index(token[-1])
    spellings = [token[:-1] + alphabet[(last & ~3) | bits] for bits in range(4)]

    assert len({base64.urlsafe_b64decode(t.split(".")[2] + "=") for t in spellings}) == 1
    assert [t for t in spellings if tokens.verify(t)] == [token]


def test_a_forged_token_for_another_session_is_not_valid(tokens: SessionTokens) -> None:
    signature = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    timestamp = tokens.issue(SESSION).split(".")[1]

    assert tokens.verify(f"{'a' * 32}.{timestamp}.{signature}") is None


@pytest.mark.parametrize(
    "presented",
    [
        None,
        "",
        SESSION,  # a bare session id is not a token
        f"{SESSION}.x.y",
        "not a token at all",
        "a" * 500,
        "\ud800",
        "é.é.é",
        42,
        ["list"],
        {"session_id": SESSION},
    ],
)
def test_anything_else_is_a_fresh_session_never_an_error(
    tokens: SessionTokens, presented: object
) -> None:
    assert tokens.verify(presented) is None
    session = tokens.start(presented)

    assert not session.resumed
    assert session.session_id != SESSION and len(session.session_id) == 32
    assert tokens.verify(session.token) == session.session_id


def test_fresh_sessions_are_distinct(tokens: SessionTokens) -> None:
    ids = {tokens.start(None).session_id for _ in range(50)}

    assert len(ids) == 50


def test_only_session_shaped_ids_are_signed(tokens: SessionTokens) -> None:
    with pytest.raises(ValueError):
        tokens.issue("../../etc")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        SessionTokens("x" * (MIN_SECRET_CHARS - 1))


def test_the_secret_is_created_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "session.secret"

    first = load_or_create_secret(path)
    again = load_or_create_secret(path)

    assert first == again and len(first) >= MIN_SECRET_CHARS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["session.secret"]


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "session.secret"
    seen: list[str] = []
    start = threading.Barrier(8)

    def load() -> None:
        start.wait()
        seen.append(load_or_create_secret(path))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 8 and len(set(seen)) == 1
    assert path.read_text().strip() == seen[0]


def test_the_environment_secret_wins_over_the_file(tmp_path: Path) -> None:
    from_env = session_tokens(SECRET, tmp_path)
    from_file = session_tokens("", tmp_path)
    token = from_env.issue(SESSION)

    assert SessionTokens(SECRET).verify(token) == SESSION
    assert from_file.verify(token) is None
    assert (tmp_path / "session.secret").exists()


def test_a_short_session_secret_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAPPORT_SESSION_SECRET", "short")
    with pytest.raises(ValueError, match="RAPPORT_SESSION_SECRET"):
        load_settings()
    monkeypatch.setenv("RAPPORT_SESSION_SECRET", SECRET)
    assert load_settings().session_secret == SECRET
