"""Asking, once and lightly, about a purchase that doesn't fit: a gift, or for them?

Steps (kept in `SessionState.pending` as `purchase:<flag id>:<step>`): purpose, then,
only if the shopper engages with a gift, who it is for (a relation, never a name),
the occasion, and for yearly occasions whether they want a reminder next year.
"Skip" ends it for good. A gift never changes the shopper's own interests; "for me"
adds the item's department to them. Gender is never inferred or mentioned.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.model import (
    REMINDERS,
    AttributeValue,
    ConsentStatus,
    Provenance,
)
from bot.domain.purchases import FlagStatus, PurchaseContext, PurchaseFlag, Purpose
from bot.domain.questions import Button, QuestionBank, Vocabulary
from bot.services.consent_talk import record_consent
from bot.services.orders import INTERESTS
from bot.services.patterns import PatternRules
from bot.services.turn import SessionState, TurnContext

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


class PurchaseTalk:
    """The purchase-clarification part of the conversation."""

    def __init__(self, bank: QuestionBank, vocabulary: Vocabulary, rules: PatternRules) -> None:
        self._bank = bank
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

    def ask(self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag) -> None:
        """ "Just curious, no need to answer: the Wrap Dress you ordered, a gift or for you?" """
        ctx.say(self._msg("purchase_ask", item=flag.item_name), self._buttons("gift", "self"))
        state.pending = pending_key(flag.id, "purpose")
        state.asked.append(f"{PREFIX}{flag.id}")
        state.clarify = {"purchase": {}}
        ctx.uow.orders.set_flag_status(flag_id=flag.id, status=FlagStatus.ASKED)

    def again(self, ctx: TurnContext, state: SessionState) -> None:
        """Ask the pending purchase step once more (e.g. after "hi" mid-exchange)."""
        parsed = parse_pending(state.pending)
        flag = self._flag(ctx, parsed[0]) if parsed else None
        if parsed is None or flag is None:
            state.pending = None
            return
        self._reask(ctx, flag, parsed[1], (state.clarify or {}).get("purchase"))

    # -- replies -------------------------------------------------------------------

    def reply(self, ctx: TurnContext, state: SessionState) -> bool:
        """Handle a reply to a purchase question; False when the exchange is over."""
        parsed = parse_pending(state.pending)
        flag = self._flag(ctx, parsed[0]) if parsed else None
        if parsed is None or flag is None:
            return False
        step = parsed[1]
        intent = ctx.incoming.intent
        if intent == "why":
            ctx.say(self._msg("purchase_why"))
            self._reask(ctx, flag, step)
            return True
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
    ) -> bool:
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
    ) -> bool:
        state.pending = pending_key(flag.id, step)
        state.clarify = {"purchase": known}
        self._reask(ctx, flag, step, known)
        return True

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
                (
                    Button(self._msg("yes_button"), self._msg("yes_button")),
                    Button(self._msg("no_button"), self._msg("no_button")),
                ),
            )

    def _reminder_reply(self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag) -> bool:
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
    ) -> bool:
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
        state.clarify = {"purchase": purchase, "unclear": True}
        return True

    def _finish(self, ctx: TurnContext, state: SessionState, flag: PurchaseFlag) -> bool:
        ctx.uow.orders.set_flag_status(flag_id=flag.id, status=FlagStatus.DONE)
        state.pending = None
        state.clarify = None
        return False

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
        return self._bank.message(key, **values)

    @staticmethod
    def _label(value_id: str) -> str:
        return value_id.replace("_", " ")

    def _buttons(self, *kinds: str) -> tuple[Button, ...]:
        titles = {
            "gift": self._msg("purchase_button_gift"),
            "self": self._msg("purchase_button_self"),
            "birthday": self._msg("purchase_button_birthday"),
            "just_because": self._msg("purchase_button_just_because"),
        }
        chosen = [Button(titles[k], titles[k]) for k in kinds]
        skip = self._msg("skip_button")
        return (*chosen, Button(skip, skip))
