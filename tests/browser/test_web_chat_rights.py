"""A shopper's consent and data rights, exercised in the web chat page in a real browser.

Marketing consent asked apart from the preference; withdrawal of one purpose in the
middle of a question; "what do you know about me?"; "that's wrong"; "export my data"
through the one-time link the chat shows; "forget me".
"""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import (
    REPLY_TIMEOUT_MS,
    bot_says,
    chat_log,
    open_chat,
    socketio_people,
    stored_session_id,
    type_message,
)
from tests.harness import Stack


def click(page: Page, title: str) -> None:
    page.get_by_role("button", name=title, exact=True).click()


def test_consent_and_every_right_in_the_web_chat(
    page: Page, page_errors: list[str], stack: Stack, tmp_path: Path
) -> None:
    open_chat(page, stack)
    click(page, "Yes, go ahead")
    bot_says(page, "How would you like to hear from us?")

    # A preference is not a consent: marketing is asked apart, channel by channel.
    type_message(page, "email, and text me")
    bot_says(page, "may we also send you offers and news by email and SMS?")
    click(page, "Only email")
    bot_says(page, "Thanks! Offers and news by email, not by SMS.")
    bot_says(page, "How often would you like to hear from us")

    # Withdrawal of one purpose mid-question; the question comes back.
    type_message(page, "no more emails please")
    bot_says(page, "Done: no offers or news by email.")
    expect(chat_log(page).get_by_text("How often would you like to hear from us")).to_have_count(
        2, timeout=REPLY_TIMEOUT_MS
    )
    click(page, "Daily")
    bot_says(page, "Got it: daily.")

    type_message(page, "what do you know about me?")
    bot_says(page, "Here's everything I know about you")
    bot_says(page, "contact frequency: daily (you told me on the web chat")

    type_message(page, "that's wrong")
    bot_says(page, "Which one would you like to change?")
    click(page, "How often")
    expect(chat_log(page).get_by_text("How often would you like to hear from us")).to_have_count(
        3, timeout=REPLY_TIMEOUT_MS
    )
    click(page, "Monthly")
    bot_says(page, "Thanks, I've updated that: monthly.")

    # "Export my data": a link in the chat, a page, one download.
    type_message(page, "export my data")
    link = chat_log(page).locator("a[href*='/export/']")
    expect(link).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    url = link.get_attribute("href")
    assert url is not None and url.startswith(f"{stack.web_url}/export/")
    download_page = page.context.new_page()
    download_page.goto(url)
    expect(download_page.get_by_role("heading")).to_have_text("Your data is ready")
    with download_page.expect_download() as started:
        download_page.get_by_role("button", name="Download my data").click()
    saved = tmp_path / "my-data.json"
    started.value.save_as(saved)
    document = json.loads(saved.read_text(encoding="utf-8"))
    profile = document["profile"]
    history = [h["value"] for h in profile["history"]["contact_frequency"]]
    assert history == ["daily", "monthly"]
    consents = profile["consents"]["current"]
    assert consents["email_marketing"]["status"] == "withdrawn"
    assert consents["sms_marketing"]["status"] == "denied"
    assert {"channel": "socketio", "external_id": stored_session_id(page)} in profile["identities"]
    download_page.goto(url)
    expect(download_page.get_by_role("heading")).to_have_text("This link can't be used any more")
    download_page.close()

    # "Forget me": confirmation, then nothing of the shopper is left in the export.
    session_id = stored_session_id(page)
    type_message(page, "forget me")
    bot_says(page, "I can delete everything I know about you")
    click(page, "Yes, delete everything")
    bot_says(page, "Done: everything I knew about you is deleted")
    assert socketio_people(stack.export(), session_id) == []
    assert page_errors == []
