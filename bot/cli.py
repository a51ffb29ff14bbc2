"""`rapport ...` commands: database, NLU pipeline, profiles, orders, API tokens, web app."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator, Sequence

from bot.config import PROJECT_ROOT, load_settings
from bot.domain.errors import RapportError

if TYPE_CHECKING:
    from bot.store.sql import SqlUnitOfWorkFactory


def _db_upgrade(_: argparse.Namespace) -> int:
    from bot.store.migrate import upgrade

    settings = load_settings()
    upgrade(settings.resolved_database_url)
    print("profile store is up to date")
    return 0


def _nlu_build(args: argparse.Namespace) -> int:
    from bot.nlu.pipeline import build, sync_config

    settings = load_settings()
    target = build(settings.content_dir / "vocabulary.yml", settings.var_dir / "spacy")
    relative = target.relative_to(PROJECT_ROOT) if target.is_relative_to(PROJECT_ROOT) else target
    changed = sync_config(Path(args.config), str(relative))
    print(f"spaCy pipeline: {relative}" + (" (config.yml updated)" if changed else ""))
    return 0


def _uow_factory() -> SqlUnitOfWorkFactory:
    from bot.store.sql import SqlUnitOfWorkFactory, make_engine

    return SqlUnitOfWorkFactory(make_engine(load_settings().resolved_database_url))


def _profiles_export(args: argparse.Namespace) -> int:
    from bot.services.profiles import export_people

    if args.format != "jsonl":
        print(f"unsupported format {args.format!r}", file=sys.stderr)
        return 2
    if args.include_sensitive and not (args.reason or "").strip():
        print("--include-sensitive needs --reason (it is recorded)", file=sys.stderr)
        return 2
    reason = args.reason.strip() if args.include_sensitive else None
    for document in export_people(_uow_factory(), include_sensitive_reason=reason):
        sys.stdout.write(json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n")
    return 0


def _profiles_show(args: argparse.Namespace) -> int:
    from bot.domain.text import inert_json
    from bot.services.profiles import show_person

    # For reading: bidi, zero-width and control characters shown as markers (`export`
    # keeps the exact text).
    document = inert_json(show_person(_uow_factory(), args.reference))
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    from bot.domain.model import utcnow
    from bot.services.tokens import create_token

    token = create_token(_uow_factory(), args.scope, utcnow())
    print(token)
    print(f"API token for scope {args.scope!r}: shown only now, keep it safe", file=sys.stderr)
    return 0


def _text_lines(handle: BinaryIO, undecodable: list[int]) -> Iterator[str]:
    """Each line as text; a line that is not UTF-8 is noted and read as blank."""
    for number, raw in enumerate(handle, start=1):
        try:
            yield raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            undecodable.append(number)
            yield ""


def _import_summary(results: list[dict[str, Any]]) -> str:
    created = sum(1 for r in results if r.get("created") is True)
    known = sum(1 for r in results if r.get("created") is False and not r.get("erased"))
    erased = sum(1 for r in results if r.get("erased"))
    invalid = sum(1 for r in results if "errors" in r)
    flagged = sum(int(r.get("flagged", 0)) for r in results)
    summary = f"{created} created, {known} already known, {invalid} invalid, {flagged} flagged"
    return summary + (f", {erased} for erased customers (skipped)" if erased else "")


def _orders_import(args: argparse.Namespace) -> int:
    from bot.services.runtime import build_services

    service = build_services(load_settings()).orders
    undecodable: list[int] = []
    try:
        with open(args.file, "rb") as handle:
            results = service.ingest_lines(_text_lines(handle, undecodable), source="import")
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    not_utf8 = [{"line": n, "errors": [{"field": "", "error": "not UTF-8"}]} for n in undecodable]
    results = sorted(results + not_utf8, key=lambda r: int(r["line"]))
    for result in results:
        for error in result.get("errors", []):
            where = f"{error['field']}: " if error["field"] else ""
            print(f"line {result['line']}: {where}{error['error']}", file=sys.stderr)
    print(_import_summary(results))
    return 1 if any("errors" in r for r in results) else 0


class _AccessLogWithoutQuery(logging.Filter):
    """Keeps personal data and secrets out of uvicorn's access log lines.

    The client address is dropped (an IP address identifies a person), the query
    string is dropped (a link into the chat page or a shop's API call may carry e-mail
    addresses or customer ids), and the token of an export link is replaced.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, mark, _ = args[2].partition("?")
            if path.startswith("/export/"):
                path = "/export/<redacted>"
            record.args = ("-", args[1], f"{path}?<redacted>" if mark else path, *args[3:])
        return True


def _web(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.web.app import create_app

    settings = load_settings()
    logging.getLogger("uvicorn.access").addFilter(_AccessLogWithoutQuery())
    # Sanic pins an old `websockets`; the web app needs no websockets of its own.
    uvicorn.run(create_app(settings), host=settings.web_host, port=settings.web_port, ws="none")
    return 0


def _telegram_set_webhook(args: argparse.Namespace) -> int:
    import asyncio

    from telegram import Bot
    from telegram.error import TelegramError

    settings = load_settings()
    token, secret = settings.telegram_bot_token, settings.telegram_secret_token
    if not token or not secret:
        print("TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN must both be set", file=sys.stderr)
        return 2

    async def set_webhook() -> bool:
        async with Bot(token, base_url=settings.telegram_base_url) as bot:
            return await bot.set_webhook(
                args.url,
                secret_token=secret,
                allowed_updates=["message", "edited_message", "callback_query"],
                drop_pending_updates=False,
            )

    try:
        done = asyncio.run(set_webhook())
    except TelegramError as exc:
        print(f"Telegram refused the webhook: {exc}", file=sys.stderr)
        return 1
    print(f"webhook set to {args.url}: {done}")
    return 0 if done else 1


def _ready(args: argparse.Namespace) -> int:
    import signal
    import time
    import urllib.request

    settings = load_settings()
    checks = {
        "Rasa": f"{settings.rasa_url}/",
        "actions": f"{settings.actions_url}/health",
        "web chat": f"http://{settings.web_host}:{settings.web_port}/healthz",
    }
    deadline = time.monotonic() + args.timeout
    for name, url in checks.items():
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    print(f"{name} did not come up at {url}", file=sys.stderr)
                    return 1
                time.sleep(1)
    print(
        f"Rapport is ready: web chat http://{settings.web_host}:{settings.web_port}/ "
        f"| Rasa {settings.rasa_url} | actions {settings.actions_url}",
        flush=True,
    )
    if args.stay:
        signal.pause()  # honcho stops every process when one exits
    return 0


RASA_UNREACHABLE = 3


def _secrets_print(args: argparse.Namespace) -> int:
    from bot.services.secret_files import named_secret

    # For `make run` only (it hands them to Rasa's command line and endpoints.yml).
    print(named_secret(load_settings(), args.name))
    return 0


def _actions(args: argparse.Namespace) -> int:
    from bot.actionserver import serve

    serve(load_settings(), log_level=args.log_level)
    return 0


def _retention_once(days: float) -> int:
    """One retention run: the store sweep, then transcripts (needs Rasa). Counts only."""
    import asyncio

    from bot.domain.model import utcnow
    from bot.services.rasa_api import (
        RasaApi,
        RasaUnreachable,
        conversation_ids,
        forget_conversations,
    )
    from bot.services.retention import RetentionPolicy, RetentionService

    settings = load_settings()
    policy = RetentionPolicy(
        receipt_days=settings.receipt_days, anonymous_days=settings.anonymous_days
    )
    service = RetentionService(_uow_factory(), utcnow, policy)
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


def _retention_run(args: argparse.Namespace) -> int:
    days = args.days if args.days is not None else float(load_settings().retention_days)
    return _retention_once(days)


def _retention_schedule(args: argparse.Namespace) -> int:
    import threading
    from datetime import datetime, timedelta, timezone

    from apscheduler.schedulers.blocking import BlockingScheduler

    days = args.days if args.days is not None else float(load_settings().retention_days)
    scheduler = BlockingScheduler(timezone=timezone.utc)
    running = threading.Lock()

    def run() -> None:
        if not running.acquire(blocking=False):
            return
        try:
            code = _retention_once(days)
        finally:
            running.release()
        if code == RASA_UNREACHABLE:  # e.g. at start, while Rasa loads its model
            retry = datetime.now(timezone.utc) + timedelta(minutes=args.retry_minutes)
            scheduler.add_job(run, "date", run_date=retry, id="retry", replace_existing=True)

    scheduler.add_job(
        run,
        "interval",
        hours=args.every_hours,
        next_run_time=datetime.now(timezone.utc),
        id="retention",
        coalesce=True,
    )
    print(f"retention: now, then every {args.every_hours:g} hours", flush=True)
    scheduler.start()  # until the process is stopped (honcho, Ctrl-C)
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    root = argparse.ArgumentParser(prog="rapport", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="profile store").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=_db_upgrade)

    nlu = commands.add_parser("nlu", help="NLU assets").add_subparsers(dest="sub", required=True)
    build = nlu.add_parser("build", help="build the offline spaCy pipeline")
    build.add_argument("--config", default=str(PROJECT_ROOT / "config.yml"))
    build.set_defaults(func=_nlu_build)

    profiles = commands.add_parser("profiles", help="people in the profile store")
    sub = profiles.add_subparsers(dest="sub", required=True)
    export = sub.add_parser("export", help="one JSON object per person")
    export.add_argument("--format", default="jsonl", choices=["jsonl"])
    export.add_argument(
        "--include-sensitive",
        action="store_true",
        help="include health-adjacent values (e.g. stress_relief); needs --reason",
    )
    export.add_argument("--reason", help="why sensitive values are exported (audited)")
    export.set_defaults(func=_profiles_export)
    show = sub.add_parser("show", help="one person, by id or channel:external_id")
    show.add_argument("reference")
    show.set_defaults(func=_profiles_show)

    orders = commands.add_parser("orders", help="shop orders")
    order_commands = orders.add_subparsers(dest="sub", required=True)
    take_in = order_commands.add_parser("import", help="take in a JSON Lines file of orders")
    take_in.add_argument("file", type=Path, help="one order object per line")
    take_in.set_defaults(func=_orders_import)

    tokens = commands.add_parser("tokens", help="API bearer tokens")
    token_commands = tokens.add_subparsers(dest="sub", required=True)
    create = token_commands.add_parser("create", help="make a token, printed once")
    create.add_argument("--scope", required=True, help="what the token may do: orders")
    create.set_defaults(func=_tokens_create)

    commands.add_parser("web", help="serve the web chat page").set_defaults(func=_web)

    telegram = commands.add_parser("telegram", help="Telegram channel")
    tg = telegram.add_subparsers(dest="sub", required=True)
    webhook = tg.add_parser("set-webhook", help="point Telegram at this server's webhook")
    webhook.add_argument("--url", required=True, help="https://.../webhooks/telegram/webhook")
    webhook.set_defaults(func=_telegram_set_webhook)

    ready = commands.add_parser("ready", help="wait for every service, then print the URLs")
    ready.add_argument("--timeout", type=float, default=300)
    ready.add_argument("--no-stay", dest="stay", action="store_false")
    ready.set_defaults(func=_ready)

    secrets = commands.add_parser("secrets", help="secrets `make run` generates once")
    secret_commands = secrets.add_subparsers(dest="sub", required=True)
    show_secret = secret_commands.add_parser(
        "print",
        help="print a secret from the environment, or the one kept under var/ "
        "(created once, mode 0600)",
    )
    show_secret.add_argument(
        "name",
        choices=["rasa-jwt", "action", "rest-token", "session"],
        help="rasa-jwt: RAPPORT_RASA_JWT_SECRET (var/rasa-jwt.secret); action: "
        "RAPPORT_ACTION_SECRET (var/action.secret); rest-token: RAPPORT_REST_TOKEN "
        "(var/rest.token); session: RAPPORT_SESSION_SECRET (var/session.secret)",
    )
    show_secret.set_defaults(func=_secrets_print)

    actions = commands.add_parser(
        "actions", help="serve the custom actions to Rasa (shared secret, bounded bodies)"
    )
    actions.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    actions.set_defaults(func=_actions)

    retention = commands.add_parser("retention", help="delete what is kept no longer")
    retention_commands = retention.add_subparsers(dest="sub", required=True)
    days_help = "delete conversation transcripts older than this (RAPPORT_RETENTION_DAYS, 90)"
    once = retention_commands.add_parser(
        "run", help="delete expired store rows and old transcripts once; prints counts"
    )
    once.add_argument("--days", type=_days, help=days_help)
    once.set_defaults(func=_retention_run)
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
    schedule.set_defaults(func=_retention_schedule)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rapport` command."""
    args = parser().parse_args(argv)
    from bot.services.secret_files import private_process

    try:
        settings = load_settings()
    except ValueError as exc:  # a setting with an unusable value: say which, and stop
        print(f"error: {exc}", file=sys.stderr)
        return 2
    private_process(settings)
    try:
        return int(args.func(args))
    except RapportError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
