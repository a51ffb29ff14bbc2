"""What the fuzz tests share: settings, the stack's endpoints, and looks into its store.

`RAPPORT_FUZZ_EXAMPLES` sets how many examples each property runs (default 40, which
keeps `make test` quick and deterministic); `make fuzz` sets 2000, draws random seeds
and keeps failing examples in `var/hypothesis/examples` so a rerun replays them first.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

from bot.channels.customer import sign
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.telegram_api import FakeTelegramApi
from tests.harness import ROOT, Stack, http_json

EXAMPLES_ENV = "RAPPORT_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES = 40
EXAMPLES = int(os.environ.get(EXAMPLES_ENV) or DEFAULT_EXAMPLES)
DEEP = bool(os.environ.get(EXAMPLES_ENV))
"""Set by `make fuzz`: random seeds and an example database instead of a fixed sequence."""

HYPOTHESIS_HOME = ROOT / "var" / "hypothesis"
"""Hypothesis' caches and (with `make fuzz`) its examples: under var/, not in the tree."""
set_hypothesis_home_dir(HYPOTHESIS_HOME)

TELEGRAM_TOKEN = "123:FUZZ"
TELEGRAM_SECRET = "fuzz-secret_0123456789"
SLACK_TOKEN = "xoxb-fuzz"
SLACK_SECRET = "fuzz-signing-secret-0123456789abcdef"
SHOP_SECRET = "fuzz-shop-secret-0123456789abcdef"
SESSION_SECRET = "fuzz-session-secret-0123456789abcdef"
"""Signs the web chat's session tokens: the Socket.IO fuzzing mints expired ones with it."""

SETTLE_QUIET_SECONDS = 3.0
"""Background work counts as finished once nothing observable changed for this long."""
SETTLE_TIMEOUT_SECONDS = 900.0

LOG_PROBLEMS = (
    "Traceback (most recent call last)",
    "rest.message.received.failure",
    "Exception occurred while handling uri",
    "update failed",
    "processing failed",
    "Encountered an exception while running action",
    "Failed to run custom action",
)
"""Log lines that mean a request or a background turn failed although the HTTP status was fine."""


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    """Hypothesis settings for one fuzzed endpoint: `examples` examples, no deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
        derandomize=not DEEP,
        database=DirectoryBasedExampleDatabase(HYPOTHESIS_HOME / "examples") if DEEP else None,
        print_blob=True,
    )


class Store:
    """Read-only looks into the stack's SQLite profile store (a new connection each time)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            return list(connection.execute(sql, params).fetchall())
        finally:
            connection.close()

    def tables(self) -> list[str]:
        rows = self._query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return sorted(str(name) for (name,) in rows)

    def counts(self) -> dict[str, int]:
        """Rows per table: what "nothing new was stored" is checked against."""
        tables = self.tables()
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
        return {str(name): int(count) for name, count in self._query(sql)}

    def nul_cells(self) -> dict[str, int]:
        """`table.column` → how many stored values contain a NUL character (should be none)."""
        found: dict[str, int] = {}
        for table in self.tables():
            columns = [str(row[1]) for row in self._query(f'PRAGMA table_info("{table}")')]
            for column in columns:
                sql = (
                    f'SELECT count(*) FROM "{table}" '
                    f"WHERE instr(CAST(\"{column}\" AS BLOB), x'00') > 0"
                )
                ((count,),) = self._query(sql)
                if count:
                    found[f"{table}.{column}"] = int(count)
        return found

    def consents_of(self, channel: str, external_id: str) -> list[tuple[Any, ...]]:
        """Every consent record of the person holding identity `channel:external_id`."""
        return self._query(
            "SELECT c.id, c.purpose, c.status, c.channel, c.created_at FROM consents c "
            "JOIN identities i ON i.person_id = c.person_id "
            "WHERE i.channel = ? AND i.external_id = ? ORDER BY c.id",
            channel,
            external_id,
        )

    def person_of(self, channel: str, external_id: str) -> str | None:
        """The person id holding identity `channel:external_id`, if any."""
        rows = self._query(
            "SELECT person_id FROM identities WHERE channel = ? AND external_id = ?",
            channel,
            external_id,
        )
        return str(rows[0][0]) if rows else None

    def values_of(self, channel: str, external_id: str) -> list[tuple[Any, ...]]:
        """Every attribute value recorded for the person holding `channel:external_id`."""
        return self._query(
            "SELECT v.id, v.attribute, v.value_json FROM attribute_values v "
            "JOIN identities i ON i.person_id = v.person_id "
            "WHERE i.channel = ? AND i.external_id = ? ORDER BY v.id",
            channel,
            external_id,
        )


@dataclass
class Fuzz:
    """The running stack, its fakes and store, and one way to call each endpoint."""

    stack: Stack
    telegram_api: FakeTelegramApi
    slack_api: FakeSlackApi
    store: Store
    orders_token: str
    busy: bool = False
    """Set by each Telegram or Slack request: they are processed in the background."""
    outcomes: Counter[str] = field(default_factory=Counter)
    """What the requests of the current test came to (`record`), shown after the test."""
    _log_offsets: dict[Path, int] = field(default_factory=dict)

    def record(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    # --- endpoints ----------------------------------------------------------------------

    def rest(self, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
        return self.stack.rest(body, raw=raw)

    def telegram(
        self, update: Any = None, *, raw: bytes | None = None, secret: str | None = TELEGRAM_SECRET
    ) -> tuple[int, Any]:
        self.busy = True
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        url = f"{self.stack.rasa_url}/webhooks/telegram/webhook"
        return http_json("POST", url, update, raw=raw, headers=headers)

    def slack(
        self,
        body: bytes,
        *,
        content_type: str = "application/json",
        signature: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """POST `body`, signed correctly now unless `signature` gives other headers."""
        self.busy = True
        signed = slack_signature(body) if signature is None else signature
        headers = {"Content-Type": content_type, **signed}
        url = f"{self.stack.rasa_url}/webhooks/slack/webhook"
        return http_json("POST", url, raw=body, headers=headers)

    def orders(
        self, body: Any = None, *, raw: bytes | None = None, authorization: str | None = None
    ) -> tuple[int, Any]:
        header = f"Bearer {self.orders_token}" if authorization is None else authorization
        url = f"{self.stack.web_url}/api/v1/orders"
        return http_json("POST", url, body, raw=raw, headers={"Authorization": header})

    # --- settling and logs --------------------------------------------------------------

    def _observable(self) -> tuple[Any, ...]:
        counts = tuple(sorted(self.store.counts().items()))
        return counts, len(self.telegram_api.calls()), len(self.slack_api.calls())

    def settle(self) -> None:
        """Wait until no background work changes the store or calls a platform (bounded).

        Only Telegram and Slack requests leave work behind; without any, this returns at once.
        """
        if not self.busy:
            return
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        last = self._observable()
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < SETTLE_QUIET_SECONDS:
            if time.monotonic() > deadline:
                raise AssertionError(f"background work did not settle in {SETTLE_TIMEOUT_SECONDS}s")
            time.sleep(0.25)
            now = self._observable()
            if now != last:
                last, quiet_since = now, time.monotonic()
        self.busy = False

    def mark_logs(self) -> None:
        """Remember where each log ends, so `log_problems` reads only what comes after."""
        self._log_offsets = {p: p.stat().st_size for p in self.stack.workdir.glob("*.log")}

    def log_problems(self) -> list[str]:
        """Log lines written since `mark_logs` that show a failed request or turn."""
        problems: list[str] = []
        for path in sorted(self.stack.workdir.glob("*.log")):
            with path.open("rb") as handle:
                handle.seek(self._log_offsets.get(path, 0))
                text = handle.read().decode("utf-8", "replace")
            lines = text.splitlines()
            for number, line in enumerate(lines):
                if any(marker in line for marker in LOG_PROBLEMS):
                    context = "\n".join(x[:300] for x in lines[max(0, number - 2) : number + 25])
                    problems.append(f"{path.name}: {context}")
        return problems


def slack_signature(body: bytes, *, secret: str = SLACK_SECRET) -> dict[str, str]:
    """The headers Slack would send with `body`, signed now."""
    sent_at = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{sent_at}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": sent_at, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


SHOP_EXPIRES = int(time.time()) + 55 * 60
"""When the shop signatures of a fuzz run expire (the longest a signature may live is 60 min)."""


def shop_signature(customer_id: str) -> str:
    """What the shop sends with a logged-in customer's id (see bot/channels/customer.py)."""
    return sign(customer_id, SHOP_SECRET, SHOP_EXPIRES)


def shop_customer(customer_id: Any, signature: Any = None) -> dict[str, Any]:
    """The `customer` object a shop sends, correctly signed unless `signature` is given."""
    signed = shop_signature(customer_id) if signature is None else signature
    return {"id": customer_id, "expires": SHOP_EXPIRES, "signature": signed}
