"""Secrets kept in files under var/: created once, owner-only, never half-written."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

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
            handle.write(secrets.token_urlsafe(48) + "\n")
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
