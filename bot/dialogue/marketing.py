"""Marketing consent in conversation, and withdrawal by purpose.

A stated contact preference ("text me") is not a consent: marketing on a channel is
asked about separately, once per purpose, right after the preference is given
(pending `__marketing__:<channels>`). Withdrawal works by purpose: "stop texting me"
ends SMS marketing only; a bare "stop" ends everything.
"""

from __future__ import annotations

from typing import Callable

from bot.dialogue.ledger import intent_is_no, record_consent
from bot.dialogue.parts import Wording
from bot.dialogue.turn import SessionState, TurnContext
from bot.domain.interpret import Understood, interpret, join_words
from bot.domain.model import (
    MARKETING_BY_CHANNEL,
    PROFILING,
    PURPOSES,
    ConsentStatus,
    JsonValue,
    Person,
)
from bot.domain.questions import EVERYTHING, Button, Vocabulary

MARKETING = "__marketing__:"
"""`SessionState.pending` prefix while a marketing consent question is open."""

CONTACT_QUESTION = "contact_channels"
"""The question whose answer names the channels marketing could use."""


def parse_marketing(pending: str | None) -> tuple[str, ...]:
    """The channels a pending marketing question asks about (empty when none is pending)."""
    if not pending or not pending.startswith(MARKETING):
        return ()
    return tuple(c for c in pending[len(MARKETING) :].split(",") if c in MARKETING_BY_CHANNEL)


def _selected(value: JsonValue) -> list[str]:
    if isinstance(value, dict):
        return [str(v) for v in value.get("selected", [])]
    return [str(value)] if isinstance(value, str) else []


def _never_asked(person: Person, channel: str) -> bool:
    return person.consent(MARKETING_BY_CHANNEL[channel]) is None


def _already_off(person: Person, purpose: str) -> bool:
    current = person.consent(purpose)
    return (
        current is not None
        and current.status is not ConsentStatus.GRANTED
        and (current.status is ConsentStatus.WITHDRAWN or purpose != PROFILING)
    )


class Marketing:
    """Marketing consent questions and purpose-by-purpose withdrawal."""

    def __init__(self, words: Wording, vocabulary: Vocabulary) -> None:
        self._words = words
        self._vocabulary = vocabulary

    def _channel_names(self, channels: tuple[str, ...] | list[str]) -> str:
        question = self._words.bank.get(CONTACT_QUESTION)
        return join_words([question.label(c) for c in channels])

    def offer(self, ctx: TurnContext, state: SessionState, value: JsonValue) -> SessionState | None:
        """After a contact preference: ask once about marketing on the channels named.

        Returns the state waiting for the answer, or None when there is nothing to ask.
        """
        channels = tuple(
            c for c in _selected(value) if c in MARKETING_BY_CHANNEL and _never_asked(ctx.person, c)
        )
        if not channels:
            return None
        ctx.say(self._request(channels), self._buttons(channels))
        return state.waiting(MARKETING + ",".join(channels))

    def again(self, ctx: TurnContext, state: SessionState) -> None:
        """Repeat the open marketing question (after "why?" or an interruption)."""
        channels = parse_marketing(state.pending)
        ctx.say(self._request(channels), self._buttons(channels))

    def _request(self, channels: tuple[str, ...]) -> str:
        return self._words("marketing_request", channels=self._channel_names(channels))

    def _buttons(self, channels: tuple[str, ...]) -> tuple[Button, ...]:
        question = self._words.bank.get(CONTACT_QUESTION)
        only = []
        if len(channels) > 1:
            only = [
                self._words.button("marketing_only", channel=question.label(c)) for c in channels
            ]
        yes, no = self._words.button("marketing_yes_all"), self._words.button("no_button")
        return (yes, *only, no)

    def reply(self, ctx: TurnContext, state: SessionState) -> tuple[bool, SessionState]:
        """Answer to the marketing question: (settled, the state after it)."""
        channels = parse_marketing(state.pending)
        if ctx.incoming.intent == "why":
            ctx.say(self._words("marketing_why"))
            self.again(ctx, state)
            return False, state
        granted = self._granted(ctx, channels)
        if granted is None:
            if state.clarify:
                ctx.say(self._words("marketing_moved_on"))
                return True, state
            names = self._channel_names(channels)
            ctx.say(self._words("marketing_clarify", channels=names), self._buttons(channels))
            return False, state.waiting(state.pending, {"marketing": True})
        wording = self._request(channels)
        for channel in channels:
            status = ConsentStatus.GRANTED if channel in granted else ConsentStatus.DENIED
            purpose = MARKETING_BY_CHANNEL[channel]
            record_consent(ctx, self._words.bank, purpose=purpose, status=status, wording=wording)
        self._confirm(ctx, granted, [c for c in channels if c not in granted])
        return True, state

    def _confirm(self, ctx: TurnContext, granted: list[str], denied: list[str]) -> None:
        if granted and denied:
            granted_names, denied_names = self._channel_names(granted), self._channel_names(denied)
            ctx.say(self._words("marketing_partly", granted=granted_names, denied=denied_names))
        elif granted:
            ctx.say(self._words("marketing_granted", granted=self._channel_names(granted)))
        else:
            ctx.say(self._words("marketing_denied", denied=self._channel_names(denied)))

    def _granted(self, ctx: TurnContext, channels: tuple[str, ...]) -> list[str] | None:
        """Which of `channels` the reply says yes to; None when the reply is unclear."""
        incoming = ctx.incoming
        question = self._words.bank.get(CONTACT_QUESTION)
        reading = interpret(
            question, self._vocabulary, incoming.text, incoming.mentions, allow_own_words=False
        )
        if isinstance(reading, Understood) and isinstance(reading.value, dict):
            named = [c for c in _selected(reading.value) if c in channels]
            ruled_out = [str(c) for c in reading.value.get("excluded", [])]
            if intent_is_no(incoming.intent) and not named:
                return []
            if named:
                return named
            if ruled_out:
                return [c for c in channels if c not in ruled_out]
        if incoming.intent == "affirm":
            return list(channels)
        if intent_is_no(incoming.intent):
            return []
        return None

    # -- withdrawal ----------------------------------------------------------------

    def targets(self, text: str, channel_mentions: list[str]) -> frozenset[str]:
        """The purposes an opt-out message withdraws.

        The shop's phrases decide first ("stop texting me"); otherwise channels the
        shopper named ("stop messaging me on WhatsApp"); otherwise everything.
        """
        found = self._words.bank.withdrawal(text)
        if found is not None:
            return found
        named = {MARKETING_BY_CHANNEL[c] for c in channel_mentions if c in MARKETING_BY_CHANNEL}
        return frozenset(named) if named else frozenset({EVERYTHING})

    def withdraw(self, ctx: TurnContext, purposes: frozenset[str]) -> bool:
        """Withdraw `purposes` at once and confirm; True when everything was withdrawn."""
        everything = EVERYTHING in purposes
        person = ctx.person
        if everything:
            # Profiling always gets an entry (it also stops the bot asking for consent);
            # other purposes only where something is granted.
            chosen = [PROFILING, *(p for p in PURPOSES[1:] if person.has_consent(p))]
        else:
            chosen = [p for p in PURPOSES if p in purposes]
        changing = [p for p in chosen if not _already_off(person, p)]
        described = changing or [p for p in chosen if p == PROFILING] or chosen
        what = "; ".join(self._words(f"withdrawn_{p}") for p in described)
        if not changing:
            ctx.say(self._words("opt_out_already", what=what))
            return everything
        confirmation = self._words("opt_out_confirm", what=what)
        for purpose in changing:
            record_consent(
                ctx,
                self._words.bank,
                purpose=purpose,
                status=ConsentStatus.WITHDRAWN,
                wording=confirmation,
            )
        ctx.say(confirmation)
        return everything


class MarketingPart:
    """The marketing question as a dialogue part: settled answers continue the profiling."""

    def __init__(
        self,
        marketing: Marketing,
        then: Callable[[TurnContext, SessionState], SessionState],
    ) -> None:
        self._marketing = marketing
        self._then = then

    def owns(self, pending: str) -> bool:
        return bool(parse_marketing(pending))

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        settled, state = self._marketing.reply(ctx, state)
        return self._then(ctx, state.settled()) if settled else state

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        self._marketing.again(ctx, state)
        return state
