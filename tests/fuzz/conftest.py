"""Fixtures of the fuzz tests: one real stack for the session, invariants after every test.

The stack (actions, Rasa with the REST, Telegram, Slack and Socket.IO connectors and its
JWT-only HTTP API, the web app with `POST /api/v1/orders`) runs once, against local
fakes of the Telegram Bot API and the Slack Web API (tests/fakes). After every test,
`invariants` waits until background processing has settled (Telegram and Slack answer
asynchronously), then checks that no value stored anywhere in the SQLite store contains
a NUL and that no process logged a traceback or a failed turn while the test ran.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fuzz.support import (
    SESSION_SECRET,
    SHOP_SECRET,
    SLACK_SECRET,
    SLACK_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    Fuzz,
    Store,
)
from tests.harness import start_stack


@pytest.fixture(scope="session")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    with FakeTelegramApi(TELEGRAM_TOKEN) as telegram_api:
        slack_api = FakeSlackApi(token=SLACK_TOKEN).start()
        try:
            stack = start_stack(
                tmp_path_factory.mktemp("fuzz"),
                extra_env={
                    "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
                    "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
                    "TELEGRAM_BASE_URL": telegram_api.base_url,
                    "SLACK_BOT_TOKEN": SLACK_TOKEN,
                    "SLACK_SIGNING_SECRET": SLACK_SECRET,
                    "SLACK_BASE_URL": f"{slack_api.url}/api/",
                    "RAPPORT_SHOP_SECRET": SHOP_SECRET,
                    "RAPPORT_SESSION_SECRET": SESSION_SECRET,
                },
            )
            try:
                token = stack.rapport("tokens", "create", "--scope", "orders").strip()
                store = Store(stack.workdir / "rapport.db")
                yield Fuzz(stack, telegram_api, slack_api, store, token)
            finally:
                stack.stop()
        finally:
            slack_api.stop()


@pytest.fixture(autouse=True)
def invariants(fuzz: Fuzz) -> Iterator[None]:
    """After each test: background work settled, no NUL stored, no failure in any log."""
    fuzz.settle()
    fuzz.mark_logs()
    fuzz.outcomes.clear()
    yield
    print(f"outcomes: {dict(sorted(fuzz.outcomes.items()))}")
    fuzz.settle()
    assert fuzz.store.nul_cells() == {}, "a NUL character was stored"
    problems = fuzz.log_problems()
    assert not problems, "\n\n".join(problems[:3])
