"""Keyed pseudonyms: what Rapport keeps instead of an identifier it must not hold."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: str, value: str) -> str:
    """HMAC-SHA256 of `value` under the installation's key, as 64 hex characters.

    Without the key (kept in var/, never in the database) a pseudonym cannot be tested
    against a guessed id: audit rows, link attempts and delivery receipts keep these.
    """
    return hmac.new(key.encode(), value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
