"""Commands on the profile store: `db upgrade`, `profiles`, `orders import`, `tokens`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from bot.config import Settings


def _db_upgrade(_: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import upgrade_store

    upgrade_store(settings)
    print("profile store is up to date")
    return 0


def _profiles_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build
    from bot.services.profiles import export_people

    if args.format != "jsonl":
        print(f"unsupported format {args.format!r}", file=sys.stderr)
        return 2
    if args.include_sensitive and not (args.reason or "").strip():
        print("--include-sensitive needs --reason (it is recorded)", file=sys.stderr)
        return 2
    reason = args.reason.strip() if args.include_sensitive else None
    services = build(settings)
    for document in export_people(services.uow_factory, include_sensitive_reason=reason):
        sys.stdout.write(json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n")
    return 0


def _profiles_show(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build
    from bot.domain.text import inert_json
    from bot.services.profiles import show_person

    # For reading: bidi, zero-width and control characters shown as markers (`export`
    # keeps the exact text).
    document = inert_json(show_person(build(settings).uow_factory, args.reference))
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return 0


def _tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build
    from bot.services.tokens import create_token

    services = build(settings)
    token = create_token(services.uow_factory, args.scope, services.clock())
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


def _orders_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import build

    service = build(settings).orders
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `db`, `profiles`, `orders` and `tokens` to `commands`."""
    db = commands.add_parser("db", help="profile store").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=_db_upgrade)

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
