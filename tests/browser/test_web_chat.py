"""The web chat page in a real browser (Debian's Chromium via Playwright) against the real stack.

Needs /usr/bin/chromium (`make browser`), the trained model (`make train`) and the
vendored Socket.IO client (`make vendor`).
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.support import (
    CONSENT_QUESTION,
    GREETING,
    REPLY_TIMEOUT_MS,
    bot_says,
    chat_log,
    open_chat,
    socketio_people,
    stored_session_id,
    take_screenshot,
    type_message,
)
from tests.harness import Stack


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
    bot_says(page, "One more thing, separate from your preference")
    page.get_by_role("button", name="No thanks").click()
    bot_says(page, "No problem: no offers or news by SMS.")
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
    stored_session_token(page)  # the server's signed token is what resumes the session

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


def stored_session_token(page: Page) -> str:
    token = page.evaluate("window.localStorage.getItem('rapport.session_token')")
    assert isinstance(token, str) and token.startswith(stored_session_id(page) + "."), token
    return token


def test_the_server_issues_the_session_and_a_bad_token_starts_afresh(
    page: Page, stack: Stack
) -> None:
    open_chat(page, stack)
    session_id = stored_session_id(page)
    stored_session_token(page)

    # Someone else's session id, or a token edited by hand, is never taken as it is.
    page.evaluate(
        """([id]) => {
             localStorage.setItem('rapport.session_token', id + '.AAAAAA.forged');
             localStorage.setItem('rapport.session', id);
           }""",
        [session_id],
    )
    page.reload()

    expect(page.get_by_role("status")).to_have_text("Connected", timeout=REPLY_TIMEOUT_MS)
    bot_says(page, CONSENT_QUESTION)  # a fresh conversation, welcomed anew
    assert stored_session_id(page) != session_id
    stored_session_token(page)


def test_a_right_to_left_override_in_a_bot_message_stays_inside_its_bubble(
    page: Page, stack: Stack
) -> None:
    """A bot message with U+202E (injected into the page's websocket) is isolated."""
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    open_chat(page, stack)
    override = "Your code: \u202e4321-DCBA and the rest"
    frame = json.dumps(["bot_uttered", {"text": override}])
    sockets[-1].send(f"42{frame}")
    sockets[-1].send("42" + json.dumps(["bot_uttered", {"text": "Plain text after it."}]))
    bot_says(page, "Plain text after it.")

    bubbles = chat_log(page).locator(".message--bot .message__text")
    tricky, after = bubbles.nth(-2), bubbles.nth(-1)
    expect(tricky).to_have_text(override)  # shown as text, nothing dropped
    expect(tricky).to_have_attribute("dir", "auto")
    assert tricky.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    # The next message reads left to right: its first letter is left of its last one.
    lefts = after.evaluate(
        """e => {
             const text = e.firstChild, range = document.createRange();
             const left = (i) => { range.setStart(text, i); range.setEnd(text, i + 1);
                                   return range.getBoundingClientRect().left; };
             return [left(0), left(text.length - 2)];
           }"""
    )
    assert lefts[0] < lefts[1], lefts
    # And inside the bubble, the text before the override keeps its order.
    before = tricky.evaluate(
        """e => {
             const text = e.firstChild, range = document.createRange();
             const left = (i) => { range.setStart(text, i); range.setEnd(text, i + 1);
                                   return range.getBoundingClientRect().left; };
             return [left(0), left(5)];
           }"""
    )
    assert before[0] < before[1], before
