"""Rules for joining and splitting people when a shopper links or unlinks channel accounts."""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from datetime import datetime
from typing import Iterable

from bot.domain.model import AttributeValue, QuestionRecord, QuestionStatus

CODE_DIGITS = 6
_CODE = re.compile(
    r"^\s*(?:(?:link(?:ing)?|code|my code is|the code is)\s*:?\s*)?"
    r"(\d{3})[\s-]?(\d{3})\s*[.!]?\s*$",
    re.IGNORECASE,
)


def new_code() -> str:
    """A fresh one-time code: six random digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def display_code(code: str) -> str:
    """ "482913" -> "482 913", easier to read and type."""
    return f"{code[:3]} {code[3:]}"


def code_in(text: str) -> str | None:
    """The six-digit code typed in `text` ("482 913", "link 482-913"), if that is all it says."""
    match = _CODE.match(text or "")
    return f"{match.group(1)}{match.group(2)}" if match else None


def code_hash(code: str) -> str:
    """What the store keeps instead of the code."""
    return hashlib.sha256(f"rapport-link:{code}".encode()).hexdigest()


def _strength(record: QuestionRecord) -> tuple[int, datetime]:
    settled = record.status in (QuestionStatus.ANSWERED, QuestionStatus.DECLINED)
    return (1 if settled else 0, record.updated_at)


def merged_questions(
    first: dict[str, QuestionRecord], second: dict[str, QuestionRecord]
) -> dict[str, QuestionRecord]:
    """Per question, the state that says more: answered/declined beat asked, then the newer."""
    merged = dict(first)
    for question_id, record in second.items():
        current = merged.get(question_id)
        if current is None or _strength(record) > _strength(current):
            merged[question_id] = record
    return merged


def supersession(values: Iterable[AttributeValue]) -> dict[int, datetime | None]:
    """`superseded_at` for each value id: per attribute the newest is current.

    Each older value is superseded when the next newer one was recorded, so after a
    merge the newer stated value wins and both stay in the history.
    """
    by_attribute: dict[str, list[AttributeValue]] = {}
    for value in values:
        by_attribute.setdefault(value.attribute, []).append(value)
    result: dict[int, datetime | None] = {}
    for history in by_attribute.values():
        ordered = sorted(history, key=lambda v: (v.created_at, v.id or 0))
        for older, newer in itertools.pairwise(ordered):
            if older.id is not None:
                result[older.id] = newer.created_at
        if ordered[-1].id is not None:
            result[ordered[-1].id] = None
    return result
