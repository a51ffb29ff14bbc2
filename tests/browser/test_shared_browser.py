"""One browser, two shop customers: the second never sees the first (real Chromium).

The shop renders the chat page for a logged-in customer with a signed, expiring
customer id (docs/shop-integration.md). Here the page the web app serves is given
those attributes on its way to the browser, as the shop's own template would render
them: customer A chats, logs out, customer B logs in on the same browser (same
localStorage, so the page presents A's session token together with B's signature).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bot.channels.customer import vouch
from tests.browser.support import (
    CONSENT_QUESTION,
    GREETING,
    bot_says,
    chat_log,
    stored_session_id,
    type_message,
)
from tests.harness import Stack, start_stack

SHOP_SECRET = "shop-secret-for-the-browser-tests-0123456789"


@pytest.fixture(scope="module")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("shared-browser"), {"RAPPORT_SHOP_SECRET": SHOP_SECRET}
    )
    yield running
    running.stop()


def open_as(page: Page, stack: Stack, customer: str) -> None:
    """Open the chat page as the shop would render it for `customer` (signed on the server).

    The attributes are set when the document is parsed, before the page's deferred
    scripts run (a page rewritten by the test's network layer would be blocked by
    Chromium's local-network checks from reaching Rasa on 127.0.0.1).
    """
    signed = vouch(customer, SHOP_SECRET)
    page.add_init_script(
        "document.addEventListener('readystatechange', () => {"
        "  if (document.readyState !== 'interactive') return;"
        "  const chat = document.getElementById('chat');"
        f"  chat.dataset.customerId = {json.dumps(signed['id'])};"
        f"  chat.dataset.customerExpires = {json.dumps(str(signed['expires']))};"
        f"  chat.dataset.customerSignature = {json.dumps(signed['signature'])};"
        "});"
    )
    page.goto(stack.web_url)
    expect(page.get_by_role("status")).to_have_text("Connected", timeout=30_000)


def people_of(stack: Stack, customer: str) -> list[dict[str, object]]:
    shop = {"channel": "shop", "external_id": customer}
    return [p for p in stack.export() if shop in p["identities"]]  # type: ignore[operator]


def test_a_second_customer_on_the_same_browser_starts_afresh(
    page: Page, stack: Stack, page_errors: list[str]
) -> None:
    first, second = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    open_as(page, stack, first)
    bot_says(page, CONSENT_QUESTION)
    type_message(page, "Yes, go ahead")
    bot_says(page, "How would you like to hear from us?")
    type_message(page, "whatsapp please")
    bot_says(page, "Got it: WhatsApp.")
    first_session = stored_session_id(page)

    # Customer A logs out, B logs in: the page presents A's session token with B's signature.
    open_as(page, stack, second)
    bot_says(page, GREETING)
    bot_says(page, CONSENT_QUESTION)
    second_session = stored_session_id(page)
    assert second_session != first_session
    expect(chat_log(page)).not_to_contain_text("WhatsApp")
    type_message(page, "what do you know about me?")
    bot_says(page, "I don't know anything about you yet")
    expect(chat_log(page)).not_to_contain_text("WhatsApp")

    [a], [b] = people_of(stack, first), people_of(stack, second)
    assert a["person_id"] != b["person_id"]
    assert {"channel": "socketio", "external_id": first_session} in a["identities"]  # type: ignore[operator]
    assert {"channel": "socketio", "external_id": second_session} in b["identities"]  # type: ignore[operator]
    assert "contact_channels" not in b["attributes"]  # type: ignore[operator]
    assert page_errors == []
