"""'What do you know about me?': a readable summary of what is stored and where it came from."""

from __future__ import annotations

from datetime import datetime

from bot.domain.interpret import summarize
from bot.domain.model import AttributeValue, Person, Provenance
from bot.domain.purchases import PurchaseContext, Purpose
from bot.domain.questions import QuestionBank
from bot.domain.text import inert

CHANNEL_NAMES = {
    "socketio": "the web chat",
    "rest": "the web chat",
    "telegram": "Telegram",
    "slack": "Slack",
    "shop": "the shop",
}


def _when(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def _source(value: AttributeValue) -> str:
    where = CHANNEL_NAMES.get(value.channel, value.channel)
    if value.provenance is Provenance.STATED:
        return f"you told me on {where}, {_when(value.created_at)}"
    if value.provenance is Provenance.AGENT:
        return f"noted by our team, {_when(value.created_at)}"
    if value.provenance is Provenance.IMPORT:
        return f"from the shop's records, {_when(value.created_at)}"
    return f"my guess, not confirmed by you, {_when(value.created_at)}"


def _purchase_line(context: PurchaseContext) -> str:
    if context.purpose is Purpose.GIFT:
        parts = ["a gift"]
        if context.recipient_relation:
            parts.append(f"for your {context.recipient_relation}")
        if context.occasion:
            parts.append(f"({context.occasion.replace('_', ' ')})")
        what = " ".join(parts)
    elif context.purpose is Purpose.SELF:
        what = "for you"
    elif context.purpose is Purpose.SKIPPED:
        what = "you preferred not to say, so I won't ask"
    else:
        what = "something else"
    return f"- order {context.order_id}, item {context.line}: {what}"


def profile_summary(
    bank: QuestionBank, person: Person, purchases: list[PurchaseContext]
) -> list[str]:
    """The lines of the summary (one message each), plain text, nothing left out.

    Stored text is shown inert: bidi, zero-width and control characters a shopper (or
    an order) put into a value appear as markers like `⟨U+202E⟩` (bot/domain/text.py).
    """
    lines: list[str] = []
    current = person.current_values()
    for question in bank.by_priority():
        value = current.get(question.id)
        if value is not None:
            lines.append(
                f"- {question.id.replace('_', ' ')}: "
                f"{summarize(question, value.value)} ({_source(value)})"
            )
    interests = current.get("interests")
    if interests is not None and isinstance(interests.value, dict):
        departments = ", ".join(d.rsplit("/", 1)[-1] for d in interests.value.get("selected", []))
        lines.append(f"- departments you shop for yourself: {departments} ({_source(interests)})")
    latest: dict[tuple[str, int], PurchaseContext] = {}
    for context in sorted(purchases, key=lambda c: c.created_at):
        latest[(context.order_id, context.line)] = context
    lines.extend(_purchase_line(c) for c in latest.values())
    declined = [q for q, r in person.questions.items() if r.status.value == "declined"]
    if declined:
        lines.append(f"- questions you skipped (never asked again): {', '.join(declined)}")
    for purpose in sorted({c.purpose for c in person.consents}):
        record = person.consent(purpose)
        if record is not None:
            lines.append(
                f"- {purpose.replace('_', ' ')}: {record.status.value} ({_when(record.created_at)})"
            )
    return [inert(line) for line in lines]
