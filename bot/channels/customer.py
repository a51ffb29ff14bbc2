"""Shop-vouched customers: a signed, expiring customer id joins the chat to `shop:<id>`.

The shop embeds the chat for a logged-in customer and sends, as REST metadata or in
the Socket.IO `session_request`:
`{"customer": {"id": "<customer_id>", "expires": <Unix seconds>, "signature": "<hex>"}}`
where the signature is HMAC-SHA256, keyed by RAPPORT_SHOP_SECRET (at least 32
characters), of `rapport-customer-v1\\n<customer_id>\\n<expires>`. A signature is
accepted until `expires`, and only if `expires` is at most RAPPORT_SHOP_SIGNATURE_MINUTES
(60) ahead: a signature copied out of a page stops working within the hour.
docs/shop-integration.md has the Python and JavaScript helpers.

A valid signature joins the chat to the person holding `shop:<customer_id>`; an
invalid or expired one is ignored and logged without the id, never trusted. A chat
already joined to another shop customer is never merged into this one (`CONFLICT`):
the web chat starts a fresh session, the REST webhook refuses with 409.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from typing import Any, Callable

from bot.domain.model import Identity
from bot.services.linking import AttachOutcome, LinkingService
from bot.services.orders import SHOP_CHANNEL

logger = logging.getLogger(__name__)
MAX_ID_CHARS = 128
SCHEME = "rapport-customer-v1"
CLOCK_SKEW_SECONDS = 60


def sign(customer_id: str, secret: str, expires: int) -> str:
    """The signature a shop sends with `customer_id`, valid until `expires` (Unix seconds)."""
    message = f"{SCHEME}\n{customer_id}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def vouch(
    customer_id: str, secret: str, *, minutes: int = 30, now: float | None = None
) -> dict[str, Any]:
    """The whole `customer` object a shop sends (what the shop-side helpers compute)."""
    expires = int(time.time() if now is None else now) + minutes * 60
    return {"id": customer_id, "expires": expires, "signature": sign(customer_id, secret, expires)}


def _storable(customer_id: str) -> bool:
    """No control characters (NUL included) and no unpaired surrogates: a storable id."""
    return not any(ord(c) < 32 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in customer_id)


def verified_customer(
    metadata: Any, secret: str, *, max_minutes: int, now: Callable[[], float] = time.time
) -> str | None:
    """The customer id in `metadata` when its signature is valid and current, else None."""
    if not isinstance(metadata, dict) or not isinstance(metadata.get("customer"), dict):
        return None
    customer = metadata["customer"]
    customer_id, signature = customer.get("id"), customer.get("signature")
    expires = customer.get("expires")
    if not isinstance(customer_id, str) or not isinstance(signature, str):
        logger.warning("customer metadata without a string id and signature ignored")
        return None
    if not secret:
        logger.warning("customer metadata ignored: RAPPORT_SHOP_SECRET is not set")
        return None
    if not customer_id or len(customer_id) > MAX_ID_CHARS or not _storable(customer_id):
        logger.warning("customer metadata with an unusable id ignored")
        return None
    if type(expires) is not int:
        logger.warning("customer metadata without an integer `expires` ignored")
        return None
    moment = now()
    if not moment - CLOCK_SKEW_SECONDS <= expires <= moment + max_minutes * 60 + CLOCK_SKEW_SECONDS:
        logger.warning("customer metadata with an expired or too long-lived signature ignored")
        return None
    given = signature.strip().lower()
    if not given.isascii() or not hmac.compare_digest(sign(customer_id, secret, expires), given):
        logger.warning("customer metadata with an invalid signature ignored")
        return None
    return customer_id


async def attach_if_vouched(
    linking: LinkingService,
    identity: Identity,
    metadata: Any,
    *,
    secret: str,
    max_minutes: int,
) -> AttachOutcome | None:
    """Join `identity` to `shop:<id>` when the metadata carries a valid signature.

    Returns None when there was no valid signature, else what happened (CONFLICT: the
    chat belongs to another shop customer, and nothing was changed).
    """
    customer_id = verified_customer(metadata, secret, max_minutes=max_minutes)
    if customer_id is None:
        return None
    verified = Identity(SHOP_CHANNEL, customer_id)
    return await asyncio.to_thread(linking.attach_verified, identity, verified)
