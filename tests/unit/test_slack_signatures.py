"""Slack request signatures: Slack's documented example passes, stale, forged and missing fail."""

from __future__ import annotations

import pytest

from bot.channels.slack import is_signed_by_slack

# https://api.slack.com/authentication/verifying-requests-from-slack (the worked example)
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = 1531420618
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
    b"%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def headers(timestamp: object = TIMESTAMP, signature: str = SIGNATURE) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def verify(
    body: bytes = BODY,
    sent: dict[str, str] | None = None,
    *,
    now: float = TIMESTAMP,
    secret: str = SECRET,
) -> bool:
    return is_signed_by_slack(
        body, headers() if sent is None else sent, signing_secret=secret, now=lambda: now
    )


def test_slacks_documented_example_is_accepted_at_its_timestamp() -> None:
    assert verify()


@pytest.mark.parametrize("age", [-300, -1, 1, 299, 300])
def test_a_signature_within_five_minutes_is_accepted(age: int) -> None:
    assert verify(now=TIMESTAMP + age)


@pytest.mark.parametrize("age", [301, 3600, -301, -86400])
def test_a_stale_or_future_timestamp_is_refused(age: int) -> None:
    assert not verify(now=TIMESTAMP + age)


def test_header_names_are_case_insensitive() -> None:
    lowered = {key.lower(): value for key, value in headers().items()}
    assert verify(sent=lowered)


@pytest.mark.parametrize(
    "signature",
    [
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504",
        "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "v0=",
        "garbage",
    ],
)
def test_a_forged_signature_is_refused(signature: str) -> None:
    assert not verify(sent=headers(signature=signature))


def test_a_changed_body_or_timestamp_breaks_the_signature() -> None:
    assert not verify(BODY.replace(b"roadrunner", b"coyote"))
    assert not verify(BODY + b" ")
    assert not verify(sent=headers(timestamp=TIMESTAMP + 1), now=TIMESTAMP + 1)


def test_another_secret_is_refused() -> None:
    assert not verify(secret="8f742231b10e8888abcd99yyyzzz85a6")


@pytest.mark.parametrize(
    "sent",
    [
        {},
        {"X-Slack-Request-Timestamp": str(TIMESTAMP)},
        {"X-Slack-Signature": SIGNATURE},
        headers(signature=""),
        headers(timestamp=""),
    ],
)
def test_missing_signature_headers_are_refused(sent: dict[str, str]) -> None:
    assert not verify(sent=sent)


@pytest.mark.parametrize(
    "timestamp", ["soon", "1531420618.5", " 1531420618", "1_531_420_618", "-1"]
)
def test_a_malformed_timestamp_is_refused_without_an_error(timestamp: str) -> None:
    assert not verify(sent=headers(timestamp=timestamp))


@pytest.mark.parametrize("secret", ["", "   "])
def test_without_a_signing_secret_everything_is_refused(secret: str) -> None:
    assert not verify(secret=secret)


def test_a_body_that_is_not_utf8_is_refused_without_an_error() -> None:
    assert not verify(b"\xff\xfe payload")
