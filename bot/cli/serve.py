"""Commands that run or prepare the servers: `web`, `actions`, `ready`, `nlu`, `secrets`,
`telegram set-webhook`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings


def _nlu_build(args: argparse.Namespace, settings: Settings) -> int:
    from bot.nlu.pipeline import build, sync_config

    target = build(settings.content_dir / "vocabulary.yml", settings.var_dir / "spacy")
    relative = target.relative_to(PROJECT_ROOT) if target.is_relative_to(PROJECT_ROOT) else target
    changed = sync_config(Path(args.config), str(relative))
    print(f"spaCy pipeline: {relative}" + (" (config.yml updated)" if changed else ""))
    return 0


def _web(_: argparse.Namespace, settings: Settings) -> int:
    import logging

    import uvicorn

    from bot.web.app import create_app
    from bot.web.logs import AccessLogWithoutQuery

    logging.getLogger("uvicorn.access").addFilter(AccessLogWithoutQuery())
    # Sanic pins an old `websockets`; the web app needs no websockets of its own.
    uvicorn.run(create_app(settings), host=settings.web_host, port=settings.web_port, ws="none")
    return 0


def _actions(args: argparse.Namespace, settings: Settings) -> int:
    from bot.actionserver import serve

    serve(settings, log_level=args.log_level)
    return 0


def _telegram_set_webhook(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from telegram import Bot
    from telegram.error import TelegramError

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


def _ready(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import time
    import urllib.request

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


def _secrets_print(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.secret_files import named_secret

    # For `make run` only (it hands them to Rasa's command line and endpoints.yml).
    print(named_secret(settings, args.name))
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `nlu`, `web`, `actions`, `telegram`, `ready` and `secrets` to `commands`."""
    nlu = commands.add_parser("nlu", help="NLU assets").add_subparsers(dest="sub", required=True)
    build = nlu.add_parser("build", help="build the offline spaCy pipeline")
    build.add_argument("--config", default=str(PROJECT_ROOT / "config.yml"))
    build.set_defaults(func=_nlu_build)

    commands.add_parser("web", help="serve the web chat page").set_defaults(func=_web)

    actions = commands.add_parser(
        "actions", help="serve the custom actions to Rasa (shared secret, bounded bodies)"
    )
    actions.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    actions.set_defaults(func=_actions)

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
