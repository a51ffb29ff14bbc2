"""Asking, once and lightly, about a purchase that doesn't fit: a gift, or for them?

Steps (the pending states `purchase:<flag id>:<step>` this part owns): purpose, then,
only if the shopper engages with a gift, who it is for (a relation, never a name),
the occasion, and for yearly occasions whether they want a reminder next year.
"Skip" ends it for good. A gift never changes the shopper's own interests; "for me"
adds the item's department to them. Gender is never inferred or mentioned.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Callable

from bot.dialogue.ledger import record_consent
from bot.dialogue.parts import Wording
from bot.dialogue.turn import SessionState, TurnContext
from bot.domain.model import (
    REMINDERS,
    AttributeValue,
    ConsentStatus,
    Provenance,
)
from bot.domain.patterns import PatternRules
from bot.domain.purchases import INTERESTS, FlagStatus, PurchaseContext, PurchaseFlag, Purpose
from bot.domain.questions import Button, Vocabulary

PREFIX = "purchase:"
STEPS = ("purpose", "relation", "occasion", "reminder")


def pending_key(flag_id: int, step: str) -> str:
    return f"{PREFIX}{flag_id}:{step}"


def parse_pending(pending: str | None) -> tuple[int, str] | None:
    """(flag id, step) when a purchase question is pending."""
    if not pending or not pending.startswith(PREFIX):
        return None
    flag_id, _, step = pending[len(PREFIX) :].partition(":")
    return (int(flag_id), step) if flag_id.isdigit() and step in STEPS else None


Step = tuple[bool, SessionState]
"""(still talking about the purchase, the state after the reply)."""


class Purchases:
    """The purchase-clarification part of the conversation."""

    def __init__(self, words: Wording, vocabulary: Vocabulary, rules: PatternRules) -> None:
        self._words = words
        self._bank = words.bank
        self._vocabulary = vocabulary
        self._rules = rules

    # -- offering ------------------------------------------------------------------

    def next_flag(self, ctx: TurnContext, state: SessionState) -> PurchaseFlag | None:
        """The oldest open, unexpired flag, unless one was asked about this session."""
        if any(a.startswith(PREFIX) for a in state.asked):
            return None
        for flag in ctx.uow.orders.flags(person_id=ctx.person.id):
            if flag.status is FlagStatus.OPEN and flag.expires_at > ctx.at:
                return flag
        return None

    def ask(self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag) -> SessionState:
        """ "Just curious, no need to answer: the Wrap Dress you ordered, a gift or for you?" """
        ctx.say(self._msg("purchase_ask", item=flag.item_name), self._buttons("gift", "self"))
        ctx.uow.orders.set_flag_status(flag_id=flag.id, status=FlagStatus.ASKED)
        asked = dataclasses.replace(state, asked=(*state.asked, f"{PREFIX}{flag.id}"))
        return asked.waiting(pending_key(flag.id, "purpose"), {"purchase": {}})

    def again(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """Ask the pending purchase step once more (e.g. after "hi" mid-exchange)."""
        parsed = parse_pending(state.pending)
        flag = self._flag(ctx, parsed[0]) if parsed else None
        if parsed is None or flag is None:
            return state.waiting(None, state.clarify)
        self._reask(ctx, flag, parsed[1], (state.clarify or {}).get("purchase"))
        return state

    # -- replies -------------------------------------------------------------------

    def reply(self, ctx: TurnContext, state: SessionState) -> Step:
        """Handle a reply to a purchase question; (False, state) when the exchange is over."""
        parsed = parse_pending(state.pending)
        flag = self._flag(ctx, parsed[0]) if parsed else None
        if parsed is None or flag is None:
            return False, state
        step = parsed[1]
        intent = ctx.incoming.intent
        if intent == "why":
            ctx.say(self._msg("purchase_why"))
            self._reask(ctx, flag, step)
            return True, state
        if intent == "skip" or (intent == "deny" and step != "reminder"):
            if step == "purpose":
                self._record(ctx, flag, {"purpose": Purpose.SKIPPED.value})
            ctx.say(self._msg("purchase_skipped"))
            return self._finish(ctx, state, flag)
        if step == "reminder":
            return self._reminder_reply(ctx, state, flag)
        known = dict((state.clarify or {}).get("purchase") or {})
        heard = self._read(ctx)
        if (
            step == "purpose"
            and not heard.get("purpose")
            and (heard.get("relation") or heard.get("occasion"))
        ):
            heard["purpose"] = Purpose.GIFT.value
        wanted = {"purpose": "purpose", "relation": "relation", "occasion": "occasion"}[step]
        if not heard.get(wanted):
            return self._unclear(ctx, state, flag, step)
        known.update(heard)
        self._record(ctx, flag, known)
        return self._after(ctx, state, flag, known)

    def _after(
        self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag, known: dict[str, str]
    ) -> Step:
        purpose = known.get("purpose")
        if purpose == Purpose.SELF.value:
            self._add_interest(ctx, flag.department)
            ctx.say(self._msg("purchase_for_self"))
            return self._finish(ctx, state, flag)
        if purpose != Purpose.GIFT.value:
            ctx.say(self._msg("purchase_noted"))
            return self._finish(ctx, state, flag)
        for step in ("relation", "occasion"):
            if not known.get(step):
                return self._next_step(ctx, state, flag, known, step)
        if known.get("occasion") in self._rules.annual_occasions:
            return self._next_step(ctx, state, flag, known, "reminder")
        ctx.say(self._msg("purchase_thanks"))
        return self._finish(ctx, state, flag)

    def _next_step(
        self,
        ctx: TurnContext,
        state: SessionState,
        flag: PurchaseFlag,
        known: dict[str, str],
        step: str,
    ) -> Step:
        self._reask(ctx, flag, step, known)
        return True, state.waiting(pending_key(flag.id, step), {"purchase": known})

    def _reask(
        self, ctx: TurnContext, flag: PurchaseFlag, step: str, known: dict[str, str] | None = None
    ) -> None:
        if step == "purpose":
            ctx.say(self._msg("purchase_ask", item=flag.item_name), self._buttons("gift", "self"))
        elif step == "relation":
            ctx.say(self._msg("purchase_ask_relation"), self._buttons())
        elif step == "occasion":
            ctx.say(self._msg("purchase_ask_occasion"), self._buttons("birthday", "just_because"))
        else:
            occasion = (known or {}).get("occasion", "")
            ctx.say(
                self._msg("purchase_ask_reminder", occasion=self._label(occasion)),
                self._words.yes_no(),
            )

    def _reminder_reply(self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag) -> Step:
        known = dict((state.clarify or {}).get("purchase") or {})
        if ctx.incoming.intent == "affirm":
            wording = self._msg(
                "purchase_ask_reminder", occasion=self._label(known.get("occasion", ""))
            )
            record_consent(
                ctx, self._bank, purpose=REMINDERS, status=ConsentStatus.GRANTED, wording=wording
            )
            ctx.uow.orders.add_reminder(
                person_id=ctx.person.id,
                order_id=flag.order_id,
                line=flag.line,
                occasion=known.get("occasion", ""),
                relation=known.get("relation"),
                remind_on=flag.created_at + timedelta(days=365 - 14),
                at=ctx.at,
            )
            ctx.say(self._msg("purchase_reminder_set"))
        else:
            ctx.say(self._msg("purchase_reminder_no"))
        return self._finish(ctx, state, flag)

    def _unclear(
        self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag, step: str
    ) -> Step:
        purchase = dict((state.clarify or {}).get("purchase") or {})
        if (state.clarify or {}).get("unclear"):
            ctx.say(self._msg("move_on"))
            return self._finish(ctx, state, flag)
        key = {"purpose": "purchase_clarify", "relation": "purchase_clarify_relation"}.get(
            step, "purchase_clarify_occasion"
        )
        ctx.say(
            self._msg(key), self._buttons("gift", "self") if step == "purpose" else self._buttons()
        )
        return True, state.waiting(state.pending, {"purchase": purchase, "unclear": True})

    def _finish(self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag) -> Step:
        ctx.uow.orders.set_flag_status(flag_id=flag.id, status=FlagStatus.DONE)
        return False, state.settled()

    # -- reading and recording -----------------------------------------------------

    def _read(self, ctx: TurnContext) -> dict[str, str]:
        heard: dict[str, str] = {}
        for mention in ctx.incoming.mentions:
            if mention.entity not in ("purpose", "relation", "occasion"):
                continue
            meanings = self._vocabulary.of(mention.entity).lookup(mention.text)
            if len(meanings) == 1 and mention.entity not in heard:
                heard[mention.entity] = meanings[0]
        return heard

    def _record(self, ctx: TurnContext, flag: PurchaseFlag, known: dict[str, str]) -> None:
        context = PurchaseContext(
            order_id=flag.order_id,
            line=flag.line,
            purpose=Purpose(known.get("purpose", Purpose.OTHER.value)),
            recipient_relation=known.get("relation"),
            occasion=known.get("occasion"),
            provenance=Provenance.STATED.value,
            channel=ctx.incoming.identity.channel,
            message_ref=ctx.incoming.message_ref,
            created_at=ctx.at,
        )
        ctx.uow.orders.add_context(person_id=ctx.person.id, context=context)

    def _add_interest(self, ctx: TurnContext, department: str) -> None:
        current = ctx.person.current_values().get(INTERESTS)
        selected = list(current.value.get("selected", [])) if current else []
        if department in selected:
            return
        ctx.add_value(
            AttributeValue(
                attribute=INTERESTS,
                value={"selected": [*selected, department]},
                provenance=Provenance.STATED,
                confidence=1.0,
                channel=ctx.incoming.identity.channel,
                message_ref=ctx.incoming.message_ref,
                created_at=ctx.at,
            )
        )

    def _flag(self, ctx: TurnContext, flag_id: int) -> PurchaseFlag | None:
        for flag in ctx.uow.orders.flags(person_id=ctx.person.id):
            if flag.id == flag_id:
                return flag
        return None

    # -- wording -------------------------------------------------------------------

    def _msg(self, key: str, **values: object) -> str:
        return self._words(key, **values)

    @staticmethod
    def _label(value_id: str) -> str:
        return value_id.replace("_", " ")

    def _buttons(self, *kinds: str) -> tuple[Button, ...]:
        chosen = [self._words.button(f"purchase_button_{kind}") for kind in kinds]
        return (*chosen, self._words.button("skip_button"))


class PurchasePart:
    """The purchase question as a dialogue part: when it is over, the profiling goes on."""

    def __init__(
        self,
        purchases: Purchases,
        then: Callable[[TurnContext, SessionState], SessionState],
    ) -> None:
        self._purchases = purchases
        self._then = then

    def owns(self, pending: str) -> bool:
        return parse_pending(pending) is not None

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        talking, state = self._purchases.reply(ctx, state)
        return state if talking else self._then(ctx, state)

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        return self._purchases.again(ctx, state)
