"""Shop-vouched customers: a signed customer id in message metadata links the chat to `shop:<id>`.

The shop embeds the chat for logged-in customers and sends
`{"customer": {"id": "<customer_id>", "signature": "<hex HMAC-SHA256 of the id with
RAPPORT_SHOP_SECRET>"}}` as metadata (REST webhook) or in the Socket.IO
`session_request`. A valid signature joins the chat identity to the person holding
`shop:<customer_id>` (the one orders are filed under); an invalid one is ignored and
logged without the id, never trusted. docs/shop-integration.md shows the computation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any

from bot.domain.model import Identity, utcnow
from bot.services.linking import LinkingService
from bot.services.orders import SHOP_CHANNEL
from bot.services.runtime import get_services

logger = logging.getLogger(__name__)
MAX_ID_CHARS = 128


def sign(customer_id: str, secret: str) -> str:
    """The signature a shop sends with `customer_id`."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def _storable(customer_id: str) -> bool:
    """No control characters (NUL included) and no unpaired surrogates: a storable id."""
    return not any(ord(c) < 32 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in customer_id)


def verified_customer(metadata: Any, secret: str) -> str | None:
    """The customer id in `metadata` when its signature is valid, else None."""
    if not isinstance(metadata, dict) or not isinstance(metadata.get("customer"), dict):
        return None
    customer = metadata["customer"]
    customer_id, signature = customer.get("id"), customer.get("signature")
    if not isinstance(customer_id, str) or not isinstance(signature, str):
        logger.warning("customer metadata without a string id and signature ignored")
        return None
    if not secret:
        logger.warning("customer metadata ignored: RAPPORT_SHOP_SECRET is not set")
        return None
    if not customer_id or len(customer_id) > MAX_ID_CHARS or not _storable(customer_id):
        logger.warning("customer metadata with an unusable id ignored")
        return None
    given = signature.strip().lower()
    if not given.isascii() or not hmac.compare_digest(sign(customer_id, secret), given):
        logger.warning("customer metadata with an invalid signature ignored")
        return None
    return customer_id


async def attach_if_vouched(identity: Identity, metadata: Any, secret: str) -> bool:
    """Join `identity` to `shop:<id>` when the metadata carries a valid signature."""
    customer_id = verified_customer(metadata, secret)
    if customer_id is None:
        return False
    services = get_services()
    linking = LinkingService(services.uow_factory, services.bank, utcnow)
    await asyncio.to_thread(linking.attach_verified, identity, Identity(SHOP_CHANNEL, customer_id))
    return True
