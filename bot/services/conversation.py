"""The profiling conversation: consent, one question at a time, skip, why, clarify, correct, stop.

Each use case takes the session state (kept in Rasa slots) and the incoming message
as plain values, reads and writes the profile store through a unit of work, and
returns what to say plus the new session state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from bot.domain.linking import code_in
from bot.domain.model import (
    PROFILING,
    ConsentStatus,
    Person,
    Provenance,
    QuestionRecord,
    QuestionStatus,
)
from bot.domain.questions import Button, Question, QuestionBank, Vocabulary
from bot.services import planner
from bot.services.consent_talk import (
    CONTACT_QUESTION,
    ConsentTalk,
    parse_marketing,
    record_consent,
)
from bot.services.erasure import ErasureService
from bot.services.interpret import (
    Ambiguous,
    Interpretation,
    Understood,
    interpret,
    resolve_clarification,
    summarize,
)
from bot.services.linking import LinkingService, LinkResult
from bot.services.purchase_talk import PurchaseTalk, parse_pending
from bot.services.rights_talk import CHANGE, ChangeTalk, DataExports
from bot.services.transparency import profile_summary
from bot.services.turn import BotMessage, Incoming, SessionState, Turn, TurnContext
from bot.store.ports import UnitOfWorkFactory

FORGET = "__forget__"
"""`SessionState.pending` while the bot waits for "yes, delete everything"."""

CONSENT = "__consent__"
"""`SessionState.pending` while the bot waits for a yes/no to profiling."""

DECLINE_INTENTS = ("skip", "deny")


def _after_link_words(text: str) -> str:
    """ "link my accounts 482913" -> "482913": the last word-run of digits, if any."""
    digits = "".join(ch for ch in text if ch.isdigit() or ch in " -")
    return digits.strip()


def _has_words(text: str) -> bool:
    """Whether the message has any letter or digit (an emoji alone has none)."""
    return any(char.isalnum() for char in text)


@dataclass(frozen=True)
class ProfilingPolicy:
    """Shop-level knobs of the conversation."""

    questions_per_session: int = 3
    consent_retry_days: int = 30
    shop_name: str = "the shop"


class ConversationService:
    """The use cases behind Rapport's three dialogue actions."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        bank: QuestionBank,
        vocabulary: Vocabulary,
        policy: ProfilingPolicy,
        clock: Callable[[], datetime],
        linking: LinkingService | None = None,
        purchases: PurchaseTalk | None = None,
        erasure: ErasureService | None = None,
        exports: DataExports | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._linking = linking or LinkingService(uow_factory, bank, clock)
        self._purchases = purchases
        self._erasure = erasure
        self._exports = exports
        self._consents = ConsentTalk(bank, vocabulary, policy.shop_name)
        self._changes = ChangeTalk(bank, vocabulary, policy.shop_name, self._consents.offer)
        self._bank = bank
        self._vocabulary = vocabulary
        self._policy = policy
        self._clock = clock

    # -- use cases -----------------------------------------------------------------

    def welcome(self, incoming: Incoming, state: SessionState) -> Turn:
        """Greet; say what is known to a returning shopper; then ask consent or a question."""
        if self._bank.is_opt_out(incoming.text):
            return self.opt_out(incoming, state)
        return self._run(incoming, state, self._welcome)

    def withdraws(self, text: str) -> bool:
        """Whether `text` withdraws consent, whatever NLU made of it ("stop", "stop texting me")."""
        return self._bank.is_opt_out(text)

    def reply(self, incoming: Incoming, state: SessionState) -> Turn:
        """Handle any reply: to the consent request, to a question, or out of the blue.

        A message that is just a link code ("482 913") redeems it, whatever was pending.
        """
        if self._bank.is_opt_out(incoming.text):
            return self.opt_out(incoming, state)
        if state.pending == FORGET:
            return self._forget_reply(incoming, state)
        code = code_in(incoming.text)
        if code is not None:
            return self._linked(self._linking.redeem(incoming.identity, code), state)
        return self._run(incoming, state, self._reply)

    def forget(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Forget me": ask for confirmation first; nothing is erased yet."""
        if self._erasure is None:
            return Turn([BotMessage(self._msg("help"))], state)
        buttons = (
            Button(self._msg("forget_yes"), self._msg("forget_yes")),
            Button(self._msg("forget_no"), self._msg("forget_no")),
        )
        message = BotMessage(self._msg("forget_confirm"), buttons)
        return Turn([message], dataclasses.replace(state, pending=FORGET, clarify=None))

    def _forget_reply(self, incoming: Incoming, state: SessionState) -> Turn:
        """Erase on an explicit yes (outside any other unit of work); anything else cancels."""
        if incoming.intent == "affirm" and _has_words(incoming.text) and self._erasure:
            erased = self._erasure.erase(incoming.identity)
            accounts = max(len(erased.identities), 1)
            done = BotMessage(self._msg("forget_done", accounts=accounts))
            return Turn([done], SessionState(greeted=True), erased=erased.identities)
        cancelled = BotMessage(self._msg("forget_cancelled"))
        return Turn([cancelled], dataclasses.replace(state, pending=None, clarify=None))

    def link(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Link my accounts": a one-time code, or redeem the code the message carries."""
        code = code_in(incoming.text) or code_in(_after_link_words(incoming.text))
        if code is not None:
            return self._linked(self._linking.redeem(incoming.identity, code), state)
        return self._linked(self._linking.issue_code(incoming.identity), state)

    def what_we_know(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "What do you know about me?": every stored value and where it came from."""
        return self._run(incoming, state, self._what_we_know)

    def _what_we_know(self, ctx: TurnContext, state: SessionState) -> SessionState:
        purchases = ctx.uow.orders.contexts(person_id=ctx.person.id)
        lines = profile_summary(self._bank, ctx.person, purchases)
        if not lines:
            ctx.say(self._msg("know_nothing"))
        else:
            ctx.say(self._msg("know_intro") + "\n" + "\n".join(lines))
            ctx.say(self._msg("know_rights"))
        self._repeat_pending(ctx, state)
        return state

    def change(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "That's wrong" / "change my ...": correct a stored answer (history kept)."""
        return self._run(incoming, state, self._change)

    def _change(self, ctx: TurnContext, state: SessionState) -> SessionState:
        changed = self._changes.start(ctx, state)
        if changed.pending == state.pending:
            self._repeat_pending(ctx, changed)  # the question that was open, asked again
        return changed

    def export(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Export my data": the shopper's data as JSON, inline or as a one-time link."""
        return self._run(incoming, state, self._export)

    def _export(self, ctx: TurnContext, state: SessionState) -> SessionState:
        if self._exports is None:
            ctx.say(self._msg("export_unavailable"))
        else:
            self._exports.offer(ctx, self._bank, self._policy.shop_name)
        self._repeat_pending(ctx, state)
        return state

    def unlink(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Unlink": this chat's account gets a person of its own again."""
        return self._linked(self._linking.unlink(incoming.identity), state)

    @staticmethod
    def _linked(result: LinkResult, state: SessionState) -> Turn:
        return Turn([BotMessage(text) for text in result.messages], state)

    def opt_out(self, incoming: Incoming, state: SessionState) -> Turn:
        """Stop profiling at once, whatever was pending, and confirm it."""
        return self._run(incoming, state, self._opt_out)

    # -- plumbing ------------------------------------------------------------------

    def _run(
        self,
        incoming: Incoming,
        state: SessionState,
        handler: Callable[[TurnContext, SessionState], SessionState],
    ) -> Turn:
        state = dataclasses.replace(state, asked=list(state.asked))
        with self._uow_factory() as uow:
            at = self._clock()
            person = uow.profiles.get_or_create(identity=incoming.identity, at=at)
            ctx = TurnContext(uow, person, incoming, at)
            new_state = handler(ctx, state)
            uow.commit()
        return Turn(messages=ctx.messages, state=new_state)

    def _msg(self, key: str, **values: object) -> str:
        return self._bank.message(key, shop_name=self._policy.shop_name, **values)

    # -- welcome -------------------------------------------------------------------

    def _welcome(self, ctx: TurnContext, state: SessionState) -> SessionState:
        if not state.greeted:
            known = self.known_summary(ctx.person)
            returning = bool(known or ctx.person.consents or ctx.person.questions)
            ctx.say(self._msg("intro_returning" if returning else "intro"))
            if known:
                ctx.say(self._msg("known_summary", summary=known))
            state.greeted = True
        if not self._repeat_pending(ctx, state):
            state.pending = None
            self._offer(ctx, state)
        return state

    def _repeat_pending(self, ctx: TurnContext, state: SessionState) -> bool:
        """Ask again whatever the bot was waiting for; False when nothing was pending."""
        if state.pending == CONSENT:
            self._ask_consent(ctx)
        elif parse_pending(state.pending) and self._purchases:
            self._purchases.again(ctx, state)
        elif parse_marketing(state.pending):
            self._consents.again(ctx, state)
        elif state.pending and self._bank.has(state.pending):
            self._ask(ctx, state, self._bank.get(state.pending), again=True)
        else:
            return False
        return True

    def known_summary(self, person: Person) -> str:
        """What we remember, in plain words ("you'd like to hear from us by SMS; ...")."""
        parts = []
        current = person.current_values()
        for question in self._bank.by_priority():
            value = current.get(question.id)
            if value is not None and value.provenance is Provenance.STATED:
                parts.append(question.remember.format(value=summarize(question, value.value)))
        return "; ".join(parts)

    def _offer(self, ctx: TurnContext, state: SessionState) -> None:
        """With nothing pending: ask for consent, ask the next question, or just help."""
        consent = self._consent_state(ctx.person, ctx.at)
        if consent is planner.ConsentState.ASK:
            self._ask_consent(ctx)
            state.pending = CONSENT
        elif not (consent is planner.ConsentState.GRANTED and self._ask_something(ctx, state)):
            ctx.say(self._msg("help"))

    def _consent_state(self, person: Person, at: datetime) -> planner.ConsentState:
        retry = timedelta(days=self._policy.consent_retry_days)
        return planner.consent_state(person, now=at, retry_after=retry)

    def _ask_consent(self, ctx: TurnContext) -> None:
        buttons = (
            Button(self._msg("yes_button"), self._msg("yes_button")),
            Button(self._msg("no_button"), self._msg("no_button")),
        )
        ctx.say(self._msg("consent_request"), buttons)

    # -- replies -------------------------------------------------------------------

    def _reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        if not _has_words(ctx.incoming.text):
            # "👍" or "🤷" decides nothing (consent least of all): it is asked about.
            ctx.incoming = dataclasses.replace(ctx.incoming, intent="nlu_fallback", mentions=[])
        intent = ctx.incoming.intent
        if intent == "goodbye":
            ctx.say(self._msg("goodbye"))
            return dataclasses.replace(state, pending=None, clarify=None)
        if intent == "help":
            ctx.say(self._msg("help"))
            return self._welcome(ctx, state)
        if state.pending == CONSENT:
            return self._consent_reply(ctx, state)
        if state.pending and state.pending.startswith(CHANGE):
            return self._changes.reply(ctx, state)
        if parse_marketing(state.pending):
            if not self._consents.reply(ctx, state):
                return state
            return self._continue(ctx, dataclasses.replace(state, pending=None, clarify=None))
        if parse_pending(state.pending) and self._purchases:
            if self._purchases.reply(ctx, state):
                return state
            return self._continue(ctx, state)
        if state.pending and self._bank.has(state.pending):
            return self._answer_reply(ctx, state, self._bank.get(state.pending))
        if self._try_correction(ctx, state):
            return state
        if intent == "thanks":
            ctx.say(self._msg("thanks"))
            return state
        if intent == "greet":
            return self._welcome(ctx, state)
        ctx.say(self._msg("help"))
        return state

    def _consent_reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        intent = ctx.incoming.intent
        if intent == "affirm":
            self._record_consent(ctx, ConsentStatus.GRANTED)
            state = dataclasses.replace(state, pending=None, clarify=None)
            if not self._ask_something(ctx, state, preface=self._msg("consent_granted")):
                ctx.say(self._msg("nothing_to_ask"))
            return state
        if intent in DECLINE_INTENTS:
            self._record_consent(ctx, ConsentStatus.DENIED)
            ctx.say(self._msg("consent_denied"))
            return dataclasses.replace(state, pending=None, clarify=None)
        if intent == "why":
            ctx.say(self._msg("consent_why"))
            self._ask_consent(ctx)
            return state
        if state.clarify:
            ctx.say(self._msg("consent_moved_on"))
            return dataclasses.replace(state, pending=None, clarify=None)
        ctx.say(self._msg("consent_clarify"), self._consent_buttons())
        return dataclasses.replace(state, clarify={"consent": True})

    def _consent_buttons(self) -> tuple[Button, ...]:
        yes, no = self._msg("yes_button"), self._msg("no_button")
        return (Button(yes, yes), Button(no, no))

    def _record_consent(self, ctx: TurnContext, status: ConsentStatus) -> None:
        wording = self._msg("consent_request")
        record_consent(ctx, self._bank, purpose=PROFILING, status=status, wording=wording)

    def _answer_reply(
        self, ctx: TurnContext, state: SessionState, question: Question
    ) -> SessionState:
        incoming = ctx.incoming
        relevant = [m for m in incoming.mentions if m.entity == question.entity]
        if incoming.intent == "why":
            self._mark(ctx, question, QuestionStatus.ASKED, why=True)
            ctx.say(question.why)
            self._ask(ctx, state, question, again=True)
            return state
        if not relevant and self._try_correction(ctx, state):
            self._ask(ctx, state, question, again=True)
            return state
        if incoming.intent in DECLINE_INTENTS and not relevant:
            self._mark(ctx, question, QuestionStatus.DECLINED)
            ctx.say(self._msg("skip_ack"))
            return self._continue(ctx, dataclasses.replace(state, pending=None, clarify=None))
        reading = self._read(question, state, incoming)
        if isinstance(reading, Understood):
            self._store(ctx, question, reading)
            ctx.say(self._msg("confirm", summary=reading.summary))
            state = dataclasses.replace(
                state, pending=None, clarify=None, last_answered=question.id
            )
            if question.id == CONTACT_QUESTION and self._consents.offer(ctx, state, reading.value):
                return state
            return self._continue(ctx, state)
        if state.clarify:
            ctx.say(self._msg("move_on"))
            return self._continue(ctx, dataclasses.replace(state, pending=None, clarify=None))
        return self._clarify(ctx, state, question, reading)

    def _read(self, question: Question, state: SessionState, incoming: Incoming) -> Interpretation:
        clarify = state.clarify or {}
        if clarify.get("candidates"):
            return resolve_clarification(
                question,
                self._vocabulary,
                tuple(clarify["candidates"]),
                dict(clarify.get("known") or {}),
                incoming.text,
                incoming.mentions,
            )
        own_words = incoming.intent not in ("affirm", "deny", "greet", "thanks", "goodbye")
        return interpret(
            question, self._vocabulary, incoming.text, incoming.mentions, allow_own_words=own_words
        )

    def _clarify(
        self, ctx: TurnContext, state: SessionState, question: Question, reading: Interpretation
    ) -> SessionState:
        skip = Button(self._msg("skip_button"), self._msg("skip_button"))
        if isinstance(reading, Ambiguous):
            labels = [question.label(c) for c in reading.candidates]
            options = " or ".join(
                [", ".join(labels[:-1]), labels[-1]] if len(labels) > 2 else labels
            )
            buttons = (*question.quick_replies(reading.candidates), skip)
            ctx.say(self._msg("clarify_between", options=options), buttons)
            clarify = {"candidates": list(reading.candidates), "known": reading.known}
        else:
            ctx.say(self._msg("clarify_generic"), (*question.quick_replies(), skip))
            clarify = {"candidates": []}
        return dataclasses.replace(state, clarify=clarify)

    def _try_correction(self, ctx: TurnContext, state: SessionState) -> bool:
        """ "no, weekly" right after "Got it: daily": update the last answer, keep history."""
        if not state.last_answered or not self._bank.has(state.last_answered):
            return False
        previous = self._bank.get(state.last_answered)
        incoming = ctx.incoming
        if not any(m.entity == previous.entity for m in incoming.mentions):
            return False
        reading = interpret(
            previous, self._vocabulary, incoming.text, incoming.mentions, allow_own_words=False
        )
        if not isinstance(reading, Understood):
            return False
        self._store(ctx, previous, reading)
        ctx.say(self._msg("corrected", summary=reading.summary))
        return True

    # -- asking --------------------------------------------------------------------

    def _next(self, person: Person, state: SessionState) -> Question | None:
        return planner.next_question(
            self._bank,
            person,
            asked_this_session=state.asked,
            budget=self._policy.questions_per_session,
        )

    def _continue(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """After an answer: the next question, or a closing line."""
        if self._consent_state(ctx.person, ctx.at) is not planner.ConsentState.GRANTED:
            return state
        if self._ask_something(ctx, state):
            return state
        if planner.remaining(self._bank, ctx.person):
            ctx.say(self._msg("budget_done"))
        else:
            ctx.say(self._msg("nothing_to_ask"))
        return state

    def _ask_something(
        self, ctx: TurnContext, state: SessionState, preface: str | None = None
    ) -> bool:
        """Ask about an unusual purchase (one per session) or the next question, if any."""
        if len(state.asked) >= self._policy.questions_per_session:
            return False
        flag = self._purchases.next_flag(ctx, state) if self._purchases else None
        question = None if flag else self._next(ctx.person, state)
        if flag is None and question is None:
            return False
        if preface:
            ctx.say(preface)
        if flag is not None and self._purchases:
            self._purchases.ask(ctx, state, flag)
        elif question is not None:
            self._ask(ctx, state, question, again=False)
        return True

    def _ask(
        self, ctx: TurnContext, state: SessionState, question: Question, *, again: bool
    ) -> None:
        skip = Button(self._msg("skip_button"), self._msg("skip_button"))
        ctx.say(question.text, (*question.quick_replies(), skip))
        state.pending = question.id
        if not again:
            state.asked.append(question.id)
            self._mark(ctx, question, QuestionStatus.ASKED)

    # -- recording -----------------------------------------------------------------

    def _mark(
        self, ctx: TurnContext, question: Question, status: QuestionStatus, *, why: bool = False
    ) -> None:
        previous = ctx.person.questions.get(question.id)
        asked_at = previous.asked_at if previous else None
        if status is QuestionStatus.ASKED and not why:
            asked_at = ctx.at
        record = QuestionRecord(
            question_id=question.id,
            status=status,
            asked_at=asked_at,
            updated_at=ctx.at,
            why_asked=(previous.why_asked if previous else 0) + (1 if why else 0),
        )
        ctx.save_question(record)

    @staticmethod
    def _store(ctx: TurnContext, question: Question, reading: Understood) -> None:
        ctx.record_answer(question.id, reading.value)

    # -- opt-out -------------------------------------------------------------------

    def _opt_out(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """Withdraw what the message names ("stop texting me": SMS marketing; "stop": all).

        After everything or profiling is withdrawn, nothing stays pending; after a
        single marketing purpose, the open question (if any) is asked again.
        """
        channels = [m.text for m in ctx.incoming.mentions if m.entity == "channel"]
        words = self._vocabulary.of("channel")
        named = [value for text in channels for value in words.lookup(text)]
        purposes = self._consents.targets(ctx.incoming.text, named)
        everything = self._consents.withdraw(ctx, purposes)
        if everything or PROFILING in purposes or parse_marketing(state.pending):
            return dataclasses.replace(state, pending=None, clarify=None)
        self._repeat_pending(ctx, state)
        return state
