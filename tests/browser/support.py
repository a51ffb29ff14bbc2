"""What the browser tests share: where Chromium is, how to read and drive the chat page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.harness import ROOT, Stack

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
