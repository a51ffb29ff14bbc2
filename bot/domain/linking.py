"""Rules for joining and splitting people when a shopper links or unlinks channel accounts."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from bot.domain.model import QuestionRecord, QuestionStatus

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U (typed O, I and L are read as 0, 1 and 1)."""
GROUPS = 2
GROUP_CHARS = 4
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
_GROUP = rf"[0-9A-Za-z]{{{GROUP_CHARS}}}"
_SEPARATOR = r"(?:\s*[-\u2010\u2011\u2013]\s*|\s{1,3})?"
"""Between the groups: nothing, spaces, or a hyphen or dash with spaces around it."""
_TOKEN = re.compile(rf"(?<![0-9A-Za-z])({_GROUP}){_SEPARATOR}({_GROUP})(?![0-9A-Za-z])")
_NAMED = re.compile(
    r"^\s*(?:please\s+)?(?:link(?:ing)?(?:\s+my\s+accounts?)?(?:\s+with)?|my\s+code\s+is|"
    r"the\s+code\s+is|here'?s\s+my\s+code|code)\s*[:=]?\s*(.+?)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def _group_ok(group: str) -> bool:
    """A group of a code: four symbols of the alphabet, at least one digit and one letter."""
    return (
        all(ch in ALPHABET for ch in group)
        and any(ch.isdigit() for ch in group)
        and any(ch.isalpha() for ch in group)
    )


def new_code() -> str:
    """A fresh one-time code: two groups of four symbols, each with a digit and a letter.

    Per group 32^4 - 22^4 - 10^4 = 804,320 possibilities, so 6.47e11 codes in all
    (docs/security.md, "Account linking", has the arithmetic). The digit-and-letter rule
    keeps ordinary words and numbers ("link", "1234", "STRENGTH") from reading as a code.
    """
    groups: list[str] = []
    while len(groups) < GROUPS:
        group = "".join(secrets.choice(ALPHABET) for _ in range(GROUP_CHARS))
        if _group_ok(group):
            groups.append(group)
    return "".join(groups)


def display_code(code: str) -> str:
    """ "K7QM4XR2" -> "K7QM-4XR2", easier to read and type."""
    return f"{code[:GROUP_CHARS]}-{code[GROUP_CHARS:]}"


def _as_code(first: str, second: str) -> str | None:
    groups = [first.upper().translate(_TYPO), second.upper().translate(_TYPO)]
    return "".join(groups) if all(_group_ok(g) for g in groups) else None


def bare_code(text: str) -> str | None:
    """The code when `text` is nothing but one ("k7qm 4xr2", "K7QM-4XR2."), else None."""
    match = _TOKEN.fullmatch((text or "").strip().rstrip(".!").strip())
    return _as_code(match.group(1), match.group(2)) if match else None


def named_code(text: str) -> str | None:
    """The code in a message that says it is one: "link K7QM-4XR2", "my code is K7QM4XR2"."""
    match = _NAMED.match(text or "")
    return bare_code(match.group(1)) if match else None


def code_anywhere(text: str) -> str | None:
    """The first code-shaped token anywhere in `text` (for a message NLU read as "link").

    Here each group must hold a real digit as typed, so "link K7QM-4XR2" is not read as
    "LINK" + "K7QM".
    """
    text = text or ""
    for start in range(len(text)):
        match = _TOKEN.match(text, start)
        if match is None or not all(any(c.isdigit() for c in g) for g in match.groups()):
            continue
        code = _as_code(match.group(1), match.group(2))
        if code is not None:
            return code
    return None


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
