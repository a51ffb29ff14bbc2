"""The consent ledger in conversation: recording with the exact wording, marketing, withdrawal.

Every ledger entry carries the SHA-256 of the exact text the shopper saw, and the
text itself is kept once per hash, so what a shopper agreed to can be shown later.
A stated contact preference ("text me") is not a consent: marketing on a channel
is asked about separately, once per purpose, right after the preference is given.
Withdrawal works by purpose: "stop texting me" ends SMS marketing only; a bare
"stop" ends everything.
"""

from __future__ import annotations

import hashlib

from bot.domain.model import (
    MARKETING_BY_CHANNEL,
    PROFILING,
    PURPOSES,
    ConsentRecord,
    ConsentStatus,
    JsonValue,
    Person,
)
from bot.domain.questions import EVERYTHING, Button, QuestionBank, Vocabulary
from bot.services.interpret import Understood, interpret, join_words
from bot.services.turn import SessionState, TurnContext

MARKETING = "__marketing__:"
"""`SessionState.pending` prefix while a marketing consent question is open."""

CONTACT_QUESTION = "contact_channels"
"""The question whose answer names the channels marketing could use."""


def wording_hash(text: str) -> str:
    """The ledger's fingerprint of the exact wording shown."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_consent(
    ctx: TurnContext, bank: QuestionBank, *, purpose: str, status: ConsentStatus, wording: str
) -> None:
    """Append one ledger entry for this turn, keeping the wording it answered."""
    digest = wording_hash(wording)
    ctx.uow.rights.add_wording(
        wording_hash=digest, text=wording, policy_version=bank.policy_version, at=ctx.at
    )
    record = ConsentRecord(
        purpose=purpose,
        status=status,
        policy_version=bank.policy_version,
        channel=ctx.incoming.identity.channel,
        message_ref=ctx.incoming.message_ref,
        created_at=ctx.at,
        wording_hash=digest,
    )
    ctx.add_consent(record)


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


class ConsentTalk:
    """Marketing consent questions and purpose-by-purpose withdrawal."""

    def __init__(self, bank: QuestionBank, vocabulary: Vocabulary, shop_name: str) -> None:
        self._bank = bank
        self._vocabulary = vocabulary
        self._shop_name = shop_name

    def _msg(self, key: str, **values: object) -> str:
        return self._bank.message(key, shop_name=self._shop_name, **values)

    def _channel_names(self, channels: tuple[str, ...] | list[str]) -> str:
        question = self._bank.get(CONTACT_QUESTION)
        return join_words([question.label(c) for c in channels])

    # -- marketing -----------------------------------------------------------------

    def offer(self, ctx: TurnContext, state: SessionState, value: JsonValue) -> bool:
        """After a contact preference: ask once about marketing on the channels named."""
        channels = tuple(
            c for c in _selected(value) if c in MARKETING_BY_CHANNEL and _never_asked(ctx.person, c)
        )
        if not channels:
            return False
        ctx.say(self._request(channels), self._buttons(channels))
        state.pending = MARKETING + ",".join(channels)
        state.clarify = None
        return True

    def again(self, ctx: TurnContext, state: SessionState) -> None:
        """Repeat the open marketing question (after "why?" or an interruption)."""
        channels = parse_marketing(state.pending)
        ctx.say(self._request(channels), self._buttons(channels))

    def _request(self, channels: tuple[str, ...]) -> str:
        return self._msg("marketing_request", channels=self._channel_names(channels))

    def _buttons(self, channels: tuple[str, ...]) -> tuple[Button, ...]:
        question = self._bank.get(CONTACT_QUESTION)
        yes, no = self._msg("marketing_yes_all"), self._msg("no_button")
        only = []
        if len(channels) > 1:
            for channel in channels:
                title = self._msg("marketing_only", channel=question.label(channel))
                only.append(Button(title, title))
        return (Button(yes, yes), *only, Button(no, no))

    def reply(self, ctx: TurnContext, state: SessionState) -> bool:
        """Answer to the marketing question. True when settled (the caller moves on)."""
        channels = parse_marketing(state.pending)
        intent = ctx.incoming.intent
        if intent == "why":
            ctx.say(self._msg("marketing_why"))
            self.again(ctx, state)
            return False
        granted = self._granted(ctx, channels)
        if granted is None:
            if state.clarify:
                ctx.say(self._msg("marketing_moved_on"))
                return True
            names = self._channel_names(channels)
            ctx.say(self._msg("marketing_clarify", channels=names), self._buttons(channels))
            state.clarify = {"marketing": True}
            return False
        wording = self._request(channels)
        for channel in channels:
            status = ConsentStatus.GRANTED if channel in granted else ConsentStatus.DENIED
            purpose = MARKETING_BY_CHANNEL[channel]
            record_consent(ctx, self._bank, purpose=purpose, status=status, wording=wording)
        denied = [c for c in channels if c not in granted]
        if granted and denied:
            ctx.say(
                self._msg(
                    "marketing_partly",
                    granted=self._channel_names(granted),
                    denied=self._channel_names(denied),
                )
            )
        elif granted:
            ctx.say(self._msg("marketing_granted", granted=self._channel_names(granted)))
        else:
            ctx.say(self._msg("marketing_denied", denied=self._channel_names(denied)))
        return True

    def _granted(self, ctx: TurnContext, channels: tuple[str, ...]) -> list[str] | None:
        """Which of `channels` the reply says yes to; None when the reply is unclear."""
        incoming = ctx.incoming
        question = self._bank.get(CONTACT_QUESTION)
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
        found = self._bank.withdrawal(text)
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
        what = "; ".join(self._msg(f"withdrawn_{p}") for p in described)
        if not changing:
            ctx.say(self._msg("opt_out_already", what=what))
            return everything
        confirmation = self._msg("opt_out_confirm", what=what)
        for purpose in changing:
            record_consent(
                ctx,
                self._bank,
                purpose=purpose,
                status=ConsentStatus.WITHDRAWN,
                wording=confirmation,
            )
        ctx.say(confirmation)
        return everything


def _already_off(person: Person, purpose: str) -> bool:
    current = person.consent(purpose)
    return (
        current is not None
        and current.status is not ConsentStatus.GRANTED
        and (current.status is ConsentStatus.WITHDRAWN or purpose != PROFILING)
    )


def intent_is_no(intent: str) -> bool:
    """Whether the shopper's intent declines ("no", "skip")."""
    return intent in ("deny", "skip")
