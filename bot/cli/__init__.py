"""`rapport ...` commands: database, NLU pipeline, profiles, orders, API tokens, web app.

One module per group of commands (store.py, serve.py, retention.py), each registering
its subcommands; every command is thin: settings in, one call on the services of
bot/bootstrap.py (or on a server), a printed result out.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from bot.cli import retention, serve, store
from bot.config import load_settings
from bot.domain.errors import RapportError

DESCRIPTION = "rapport: database, NLU pipeline, profiles, orders, API tokens, servers, retention"


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    root = argparse.ArgumentParser(prog="rapport", description=DESCRIPTION)
    commands = root.add_subparsers(dest="command", required=True)
    store.register(commands)
    serve.register(commands)
    retention.register(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rapport` command."""
    args = parser().parse_args(argv)
    from bot.adapters.secret_files import private_process

    try:
        settings = load_settings()
    except ValueError as exc:  # a setting with an unusable value: say which, and stop
        print(f"error: {exc}", file=sys.stderr)
        return 2
    private_process(settings)
    try:
        return int(args.func(args, settings))
    except RapportError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


__all__ = ["main", "parser"]
