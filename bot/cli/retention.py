"""`rapport retention run|schedule`: delete what is kept no longer (bot/services/retention.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import Settings

RASA_UNREACHABLE = 3


def _days(raw: str) -> float:
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not 0 <= days <= 36500:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"not a number of days >= 0: {raw!r}")
    return days


def _positive(raw: str) -> float:
    try:
        number = float(raw)
    except ValueError:
        number = 0.0
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"not a number > 0: {raw!r}")
    return number


def run_once(settings: Settings, days: float) -> int:
    """One retention run: the store sweep, then transcripts (needs Rasa). Counts only."""
    from bot.adapters.rasa_api import (
        RasaApi,
        RasaUnreachable,
        conversation_ids,
        forget_conversations,
    )
    from bot.bootstrap import build

    service = build(settings).retention
    store = service.sweep_store()
    print(
        f"store: deleted {store.flags} expired purchase flags, {store.link_codes} expired "
        f"link codes, {store.link_attempts} old wrong-code records, {store.link_joins} old "
        f"link undo records, {store.receipts} old delivery receipts, "
        f"{store.anonymous_people} anonymous people who never consented",
        flush=True,
    )

    def api() -> RasaApi:
        return RasaApi.from_settings(settings)

    try:
        if store.anonymous:
            asyncio.run(forget_conversations(api, conversation_ids(store.anonymous)))
        swept = asyncio.run(service.sweep_transcripts(api, days))
    except RasaUnreachable as exc:
        print(f"transcripts: skipped, {exc}; run again once Rasa is up", file=sys.stderr)
        return RASA_UNREACHABLE
    failed = f", {swept.failed} refused by Rasa" if swept.failed else ""
    print(
        f"transcripts older than {days:g} days: deleted {swept.events_deleted} events from "
        f"{swept.trimmed} of {swept.conversations} conversations{failed}",
        flush=True,
    )
    return 1 if swept.failed else 0


def _days_of(args: argparse.Namespace, settings: Settings) -> float:
    return float(args.days) if args.days is not None else float(settings.retention_days)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    return run_once(settings, _days_of(args, settings))


def _schedule(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.retention import run_every

    days = _days_of(args, settings)
    print(f"retention: now, then every {args.every_hours:g} hours", flush=True)
    run_every(
        lambda: run_once(settings, days),
        hours=args.every_hours,
        retry_minutes=args.retry_minutes,
        retry_on=RASA_UNREACHABLE,
    )
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `retention run` and `retention schedule` to `commands`."""
    retention = commands.add_parser("retention", help="delete what is kept no longer")
    retention_commands = retention.add_subparsers(dest="sub", required=True)
    days_help = "delete conversation transcripts older than this (RAPPORT_RETENTION_DAYS, 90)"
    once = retention_commands.add_parser(
        "run", help="delete expired store rows and old transcripts once; prints counts"
    )
    once.add_argument("--days", type=_days, help=days_help)
    once.set_defaults(func=_run)
    schedule = retention_commands.add_parser(
        "schedule", help="run retention now, then every --every-hours (make run)"
    )
    schedule.add_argument("--days", type=_days, help=days_help)
    schedule.add_argument("--every-hours", type=_positive, default=24.0)
    schedule.add_argument(
        "--retry-minutes",
        type=_positive,
        default=1.0,
        help="when Rasa is not reachable, try again after this many minutes",
    )
    schedule.set_defaults(func=_schedule)
