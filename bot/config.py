"""The one reader of the environment: typed settings for every Rapport process."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with embedded defaults for `make run`.

    Attributes:
        database_url: SQLAlchemy URL of the profile store.
        content_dir: folder with the shop-editable questions and vocabulary.
        shop_name: how the bot names the shop.
        questions_per_session: profiling budget per conversation session.
        consent_retry_days: days before asking again after a "no".
        max_message_chars: longest shopper message accepted.
        widget_init_payload: what a chat widget sends to open the conversation
            (rasa-webchat's `initPayload`, "/greet" by default); that exact text, and
            no other typed command, starts the conversation as a greeting.
        web_host: bind address of the web app.
        web_port: port of the web app.
        rasa_url: where the web chat page finds Rasa's Socket.IO endpoint.
        var_dir: where runtime files live (SQLite file, spaCy pipeline, assets).
        telegram_bot_token: Telegram Bot API token; the channel is on when set.
        telegram_secret_token: the secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token.
        telegram_base_url: Bot API base URL (tests point it at a local fake).
        slack_bot_token: Slack bot token (xoxb-...); the channel is on when set.
        slack_signing_secret: Slack app signing secret, for request signatures.
        slack_base_url: Slack Web API base URL (tests point it at a local fake).
        shop_secret: key of the HMAC a shop signs logged-in customer ids with.
        rest_token: bearer token the REST webhook requires; empty: every REST call is refused.
        production: `RAPPORT_ENV=production`.
        public_url: the web app's address as shoppers reach it (export download links).
        export_link_minutes: how long a shopper's "export my data" link stays usable.
        rasa_jwt_secret: HS256 key of Rasa's HTTP API (`--jwt-secret`); empty: the one
            generated once in var/rasa-jwt.secret (see bot/services/rasa_api.py).
        retention_days: conversation transcripts older than this are deleted by
            `rapport retention run`.
        session_secret: HMAC key of the web chat's session tokens; empty: the one
            generated once in var/session.secret (see bot/services/chat_sessions.py).
        action_secret: the shared secret Rasa sends the action server in
            `X-Rapport-Action-Secret`; empty: the one generated once in var/action.secret.
        actions_host: bind address of the action server.
        actions_port: port of the action server.
        shop_signature_minutes: the longest a shop's customer signature may stay valid.
        allowed_origins: browser origins the web chat and web app accept (scheme://host:port).
        message_rate: shopper messages accepted per conversation (limits notation).
        source_rate: shopper messages accepted per source address, all conversations together.
        connection_rate: web chat connection attempts accepted per source address.
        anonymous_days: people who never consented and left nothing else are deleted after this.
        receipt_days: platform delivery receipts (de-duplication) are kept this long.
    """

    database_url: str = ""
    content_dir: Path = field(default=PROJECT_ROOT / "shop")
    shop_name: str = "the shop"
    questions_per_session: int = 3
    consent_retry_days: int = 30
    max_message_chars: int = 2000
    widget_init_payload: str = "/greet"
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    var_dir: Path = field(default=PROJECT_ROOT / "var")
    telegram_bot_token: str = ""
    telegram_secret_token: str = ""
    telegram_base_url: str = "https://api.telegram.org/bot"
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_base_url: str = "https://slack.com/api/"
    shop_secret: str = ""
    rest_token: str = ""
    production: bool = False
    public_url: str = "http://127.0.0.1:8000"
    export_link_minutes: int = 15
    rasa_jwt_secret: str = ""
    retention_days: int = 90
    session_secret: str = ""
    action_secret: str = ""
    actions_host: str = "127.0.0.1"
    actions_port: int = 5055
    shop_signature_minutes: int = 60
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8000",)
    message_rate: str = "20/minute;200/hour"
    source_rate: str = "120/minute"
    connection_rate: str = "30/minute"
    anonymous_days: int = 30
    receipt_days: int = 3

    @property
    def sqlite_file(self) -> Path | None:
        """The profile store's file when it is SQLite, else None."""
        prefix = "sqlite:///"
        url = self.resolved_database_url
        return (
            Path(url[len(prefix) :]) if url.startswith(prefix) and len(url) > len(prefix) else None
        )

    @property
    def actions_url(self) -> str:
        """Where Rasa and `rapport ready` reach the action server."""
        return f"http://{self.actions_host}:{self.actions_port}"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under var/."""
        return self.database_url or f"sqlite:///{self.var_dir / 'rapport.db'}"


def load_settings() -> Settings:
    """Read the settings from the environment (see .env.example)."""
    var_dir = Path(_env("RAPPORT_VAR_DIR", str(PROJECT_ROOT / "var")))
    public_url = _env(
        "RAPPORT_PUBLIC_URL", f"http://127.0.0.1:{_env_int('RAPPORT_WEB_PORT', 8000)}"
    )
    return Settings(
        database_url=_env("RAPPORT_DATABASE_URL", ""),
        content_dir=Path(_env("RAPPORT_CONTENT_DIR", str(PROJECT_ROOT / "shop"))),
        shop_name=_env("RAPPORT_SHOP_NAME", "the shop"),
        questions_per_session=_env_int("RAPPORT_QUESTIONS_PER_SESSION", 3),
        consent_retry_days=_env_int("RAPPORT_CONSENT_RETRY_DAYS", 30),
        max_message_chars=_env_int("RAPPORT_MAX_MESSAGE_CHARS", 2000),
        widget_init_payload=_init_payload("RAPPORT_WIDGET_INIT_PAYLOAD"),
        web_host=_env("RAPPORT_WEB_HOST", "127.0.0.1"),
        web_port=_env_int("RAPPORT_WEB_PORT", 8000),
        rasa_url=_env("RAPPORT_RASA_URL", "http://127.0.0.1:5005"),
        var_dir=var_dir,
        telegram_bot_token=_env("TELEGRAM_BOT_TOKEN", ""),
        telegram_secret_token=_env("TELEGRAM_SECRET_TOKEN", ""),
        telegram_base_url=_env("TELEGRAM_BASE_URL", "https://api.telegram.org/bot"),
        slack_bot_token=_env("SLACK_BOT_TOKEN", ""),
        slack_signing_secret=_env("SLACK_SIGNING_SECRET", ""),
        slack_base_url=_env("SLACK_BASE_URL", "https://slack.com/api/"),
        shop_secret=_secret("RAPPORT_SHOP_SECRET"),
        rest_token=_secret("RAPPORT_REST_TOKEN"),
        production=_env("RAPPORT_ENV", "development").lower() == "production",
        public_url=public_url,
        export_link_minutes=_env_int("RAPPORT_EXPORT_LINK_MINUTES", 15),
        rasa_jwt_secret=_secret("RAPPORT_RASA_JWT_SECRET"),
        retention_days=_env_int("RAPPORT_RETENTION_DAYS", 90),
        session_secret=_secret("RAPPORT_SESSION_SECRET"),
        action_secret=_secret("RAPPORT_ACTION_SECRET"),
        actions_host=_env("RAPPORT_ACTIONS_HOST", "127.0.0.1"),
        actions_port=_env_int("RAPPORT_ACTIONS_PORT", 5055),
        shop_signature_minutes=_env_int("RAPPORT_SHOP_SIGNATURE_MINUTES", 60),
        allowed_origins=_origins("RAPPORT_ALLOWED_ORIGINS", public_url),
        message_rate=_rate("RAPPORT_MESSAGE_RATE", "20/minute;200/hour"),
        source_rate=_rate("RAPPORT_SOURCE_RATE", "120/minute"),
        connection_rate=_rate("RAPPORT_CONNECTION_RATE", "30/minute"),
        anonymous_days=_env_int("RAPPORT_ANONYMOUS_DAYS", 30),
        receipt_days=_env_int("RAPPORT_RECEIPT_DAYS", 3),
    )


MIN_SECRET_CHARS = 32


def _init_payload(name: str) -> str:
    value = _env(name, "/greet")
    if not re.fullmatch(r"/[A-Za-z_]{1,40}", value):
        raise ValueError(f"{name} must be a slash and a plain intent name, like /greet")
    return value


def _secret(name: str) -> str:
    # An HMAC / HS256 key shorter than its hash could be guessed offline from one token.
    value = _env(name, "")
    if value and len(value) < MIN_SECRET_CHARS:
        raise ValueError(f"{name} must be at least {MIN_SECRET_CHARS} characters")
    return value


def origin_of(url: str) -> str:
    """`https://shop.example:8443/chat` -> `https://shop.example:8443` (what browsers send)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ValueError(f"not an http(s) origin: {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _origins(name: str, public_url: str) -> tuple[str, ...]:
    # Default: the web app's own address, the one page that embeds the chat.
    raw = _env(name, "")
    try:
        listed = [origin_of(item) for item in raw.replace(",", " ").split()]
        return tuple(listed) if listed else (origin_of(public_url),)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc} (space-separated scheme://host[:port])") from exc


def _rate(name: str, default: str) -> str:
    value = _env(name, default)
    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{name} must look like '20/minute;200/hour', got {value!r}") from exc
    return value
