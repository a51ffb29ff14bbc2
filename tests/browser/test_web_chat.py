"""The web chat page in a real browser (Debian's Chromium via Playwright) against the real stack.

Needs /usr/bin/chromium (`make browser`), the trained model (`make train`) and the
vendored Socket.IO client (`make vendor`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.harness import ROOT, Stack, start_stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VENDOR_FILE = ROOT / "var" / "vendor" / "socket.io.min.js"
SCREENSHOT = ROOT / "var" / "screenshots" / "web-chat.png"
REPLY_TIMEOUT_MS = 30_000
"""The first bot reply can take a while: Rasa loads lazily on the first message."""

GREETING = "Hi! I'm Calmly's assistant, a bot."
CONSENT_QUESTION = "may I ask you a couple of quick questions?"


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; a missing browser is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium")
    if not VENDOR_FILE.exists():
        pytest.fail(f"{VENDOR_FILE} is missing: run `make vendor`")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The running stack (asks for `chromium` first so a missing browser fails fast)."""
    running = start_stack(tmp_path_factory.mktemp("browser"))
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (empty storage, so a new shopper) per test."""
    context = browser.new_context(viewport={"width": 640, "height": 820})
    yield context.new_page()
    context.close()


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of `page` (CSP violations show up here)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def chat_log(page: Page) -> Locator:
    return page.get_by_role("log")


def message_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Your message")


def bot_says(page: Page, text: str) -> None:
    expect(chat_log(page)).to_contain_text(text, timeout=REPLY_TIMEOUT_MS)


def open_chat(page: Page, stack: Stack) -> None:
    """Open the page and wait until the bot has asked for consent."""
    page.goto(stack.web_url)
    expect(page.get_by_role("status")).to_have_text("Connected", timeout=REPLY_TIMEOUT_MS)
    bot_says(page, GREETING)
    bot_says(page, CONSENT_QUESTION)


def type_message(page: Page, text: str) -> None:
    message_box(page).fill(text)
    message_box(page).press("Enter")


def take_screenshot(page: Page) -> None:
    """A picture of the chat for the docs (no hover effect, animations finished)."""
    page.mouse.move(0, 0)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), animations="disabled")


def stored_session_id(page: Page) -> str:
    session_id = page.evaluate("window.localStorage.getItem('rapport.session')")
    assert isinstance(session_id, str) and len(session_id) == 32, session_id
    return session_id


def socketio_people(export: list[dict[str, Any]], session_id: str) -> list[dict[str, Any]]:
    """The exported people known by the web chat session `session_id`."""
    identity = {"channel": "socketio", "external_id": session_id}
    return [person for person in export if identity in person["identities"]]


def test_a_shopper_answers_two_questions_in_the_web_chat(
    page: Page, page_errors: list[str], stack: Stack
) -> None:
    open_chat(page, stack)
    expect(page).to_have_title("Chat with Calmly")

    page.get_by_role("button", name="Yes, go ahead").click()
    bot_says(page, "How would you like to hear from us?")
    expect(page.get_by_role("button", name="Yes, go ahead")).to_have_count(0)

    type_message(page, "text me, email is too much")
    bot_says(page, "Got it: SMS, not email.")
    bot_says(page, "How often would you like to hear from us")

    page.get_by_role("button", name="Weekly").click()
    bot_says(page, "Got it: weekly.")
    bot_says(page, "What brings you to us?")
    expect(page.get_by_role("group", name="Suggested replies").first).to_be_visible()
    take_screenshot(page)

    people = socketio_people(stack.export(), stored_session_id(page))
    assert len(people) == 1
    (person,) = people
    assert [i["channel"] for i in person["identities"]] == ["socketio"]
    attributes = person["attributes"]
    assert attributes["contact_channels"]["value"] == {"selected": ["sms"], "excluded": ["email"]}
    assert attributes["contact_frequency"]["value"] == "weekly"
    assert person["consents"]["current"]["profiling"]["status"] == "granted"
    assert page_errors == []


def test_markup_typed_by_a_shopper_is_shown_as_text(page: Page, stack: Stack) -> None:
    markup = "<script>window.pwned=1</script>"
    open_chat(page, stack)

    type_message(page, markup)

    shopper_bubble = chat_log(page).locator(".message--shopper .message__text").last
    expect(shopper_bubble).to_have_text(markup)
    expect(chat_log(page).locator("script")).to_have_count(0)
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_a_reload_keeps_the_transcript_and_the_session(page: Page, stack: Stack) -> None:
    open_chat(page, stack)
    session_id = stored_session_id(page)

    page.reload()

    expect(page.get_by_role("status")).to_have_text("Connected", timeout=REPLY_TIMEOUT_MS)
    expect(chat_log(page)).to_contain_text(GREETING)
    expect(chat_log(page)).to_contain_text(CONSENT_QUESTION)
    # Anything the page asked for on reconnecting is answered before this reply.
    page.get_by_role("button", name="Yes, go ahead").click()
    bot_says(page, "Here's the first one.")
    expect(chat_log(page).get_by_text(GREETING)).to_have_count(1)
    assert stored_session_id(page) == session_id
    people = socketio_people(stack.export(), session_id)
    assert len(people) == 1
    assert [i["channel"] for i in people[0]["identities"]] == ["socketio"]
