"""Secrets kept in files under var/: created once, owner-only, never half-written."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from bot.config import Settings

MIN_SECRET_CHARS = 32


def load_or_create_secret(path: Path) -> str:
    """The secret in `path`; created once (random, owner-only 0600) if there is none yet.

    The file appears with its whole content or not at all (written aside, then
    hard-linked into place), so processes starting together agree on one secret.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            # Hex: never starts with "-", so no command line reads it as an option.
            handle.write(secrets.token_hex(32) + "\n")
        # Another process may have made it first: then theirs is used.
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    finally:
        os.unlink(aside)
    return _read(path)


def _read(path: Path) -> str:
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"{path} must hold at least {MIN_SECRET_CHARS} characters")
    return secret


OWNER_ONLY_UMASK = 0o077
PRIVATE_PATTERNS = ("*.db", "*.db-*", "*.sqlite", "*.secret", "*.salt", "*.token")


def keep_private(var_dir: Path, *files: Path) -> None:
    """Make this process create owner-only files, and close what exists already.

    Called first by every Rapport process (CLI, action server, Rasa's channels, web
    app): umask 077, so databases, secrets and logs it creates are 0600 and folders
    0700; then var/ itself becomes 0700 and the databases and secrets in it (and
    `files`, e.g. a SQLite store kept elsewhere) 0600, for installations made before.
    """
    os.umask(OWNER_ONLY_UMASK)
    var_dir.mkdir(parents=True, exist_ok=True)
    _chmod(var_dir, 0o700)
    found = [path for pattern in PRIVATE_PATTERNS for path in var_dir.glob(pattern)]
    for path in [*found, *files]:
        if path.is_file():
            _chmod(path, 0o600)


def _chmod(path: Path, mode: int) -> None:
    # Another user's file (a shared checkout) is left alone rather than failing the start.
    with contextlib.suppress(PermissionError):
        if path.stat().st_uid == os.getuid():
            os.chmod(path, mode)


def private_process(settings: Settings) -> None:
    """`keep_private` for this installation's var/ and its SQLite profile store."""
    store = settings.sqlite_file
    keep_private(settings.var_dir, *([store] if store else []))


# Secrets `make run` generates once under var/ when the environment does not set them:
# name -> (the Settings attribute that overrides it, the file under var/).
GENERATED = {
    "rasa-jwt": ("rasa_jwt_secret", "rasa-jwt.secret"),
    "action": ("action_secret", "action.secret"),
    "rest-token": ("rest_token", "rest.token"),
    "session": ("session_secret", "session.secret"),
}


def named_secret(settings: Settings, name: str) -> str:
    """The secret `name` (see GENERATED): from the environment, else var/, created once."""
    attribute, file_name = GENERATED[name]
    configured: str = getattr(settings, attribute)
    return configured or load_or_create_secret(settings.var_dir / file_name)
