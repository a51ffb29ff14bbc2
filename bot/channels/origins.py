"""Where a request comes from: the browser origin it claims, and its source address.

Browsers send `Origin` on cross-site requests (and on every WebSocket handshake):
Rapport's endpoints accept only the origins in RAPPORT_ALLOWED_ORIGINS (default: the
web app's own address). A request without `Origin` is not from a browser page on
another site (a server, a command-line client) and is judged by its authentication.

The source address is kept only as a pseudonym (HMAC under the installation's key),
for rate limits and wrong-code counts. It is the TCP peer: behind a reverse proxy
every shopper shares the proxy's address (docs/security.md).
"""

from __future__ import annotations

from sanic.request import Request

from bot.config import Settings
from bot.domain.pseudonyms import pseudonym


def origin_refused(origin: str | None, settings: Settings) -> bool:
    """True when a browser origin is given and it is not one of the allowed ones."""
    if origin is None:
        return False
    return origin.strip().lower().rstrip("/") not in settings.allowed_origins


def address_pseudonym(address: str, *, key: str) -> str:
    """The pseudonym of a source address under the pseudonym `key` (never the address)."""
    return pseudonym(key, f"address\n{address}")


def source_pseudonym(request: Request, *, key: str) -> str:
    """The pseudonym of the request's peer address under the pseudonym `key`."""
    return address_pseudonym(str(request.ip or "unknown"), key=key)
