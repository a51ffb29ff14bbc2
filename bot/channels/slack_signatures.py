"""Slack request signatures (slack_sdk's verifier): valid, and made in the last 5 minutes."""

from __future__ import annotations

import re
import time
from typing import Callable, Mapping

from slack_sdk.signature import Clock, SignatureVerifier

_DIGITS = re.compile(r"^[0-9]{1,12}$")

Now = Callable[[], float]


class _InjectedClock(Clock):
    """slack_sdk's clock, reading the time from a function (tests pass a fixed one)."""

    def __init__(self, now: Now) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def is_signed_by_slack(
    body: bytes, headers: Mapping[str, str], *, signing_secret: str, now: Now = time.time
) -> bool:
    """True when `body` carries a valid Slack signature made in the last 5 minutes.

    `headers` needs `X-Slack-Request-Timestamp` and `X-Slack-Signature` (any case).
    A missing secret, a malformed timestamp, a non-ASCII signature (`hmac.compare_digest`
    raises on one) or a body that is not UTF-8 is refused.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not signing_secret.strip() or not timestamp or not signature:
        return False
    if not _DIGITS.match(timestamp) or not signature.isascii():
        return False
    verifier = SignatureVerifier(signing_secret, clock=_InjectedClock(now))
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except (UnicodeDecodeError, ValueError):
        return False
