"""The conversation: one use case per dialogue action, dispatched over the dialogue parts.

Each use case takes the session state (kept in Rasa slots) and the incoming message as
plain values, runs in one unit of work on the profile store, and returns what to say
and the new session state. What the bot is waiting for belongs to one part (consent,
marketing, questions, purchases, changes, forgetting, linking: bot/dialogue/parts.py);
the dispatcher asks each part whether the pending state is its own and hands it the
reply. Use cases with a unit of work of their own (linking, erasure) run after this
turn's has committed (`TurnContext.then`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Callable, Sequence

from bot.dialogue.consent import ProfilingConsent
from bot.dialogue.linking import LINK_CODE, LINK_NOTICE, Linking
from bot.dialogue.marketing import Marketing, parse_marketing
from bot.dialogue.parts import DialoguePart, Wording
from bot.dialogue.questions import Questions
from bot.dialogue.rights import Changes, Forgetting, Rights, has_words
from bot.dialogue.stopping import StopCheck, explicit_opt_out
from bot.dialogue.turn import Incoming, SessionState, Turn, TurnContext
from bot.domain.interpret import summarize
from bot.domain.model import PROFILING, Person, Provenance
from bot.domain.questions import QuestionBank, Vocabulary
from bot.store.ports import UnitOfWorkFactory

Handler = Callable[[TurnContext, SessionState], SessionState]


class ConversationService:
    """The use cases behind Rapport's dialogue actions (one per action in actions/)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        words: Wording,
        vocabulary: Vocabulary,
        clock: Callable[[], datetime],
        *,
        consent: ProfilingConsent,
        questions: Questions,
        marketing: Marketing,
        rights: Rights,
        changes: Changes,
        forgetting: Forgetting,
        linking: Linking,
        stopping: StopCheck,
        parts: Sequence[DialoguePart],
    ) -> None:
        self._uow_factory = uow_factory
        self._words = words
        self._bank: QuestionBank = words.bank
        self._vocabulary = vocabulary
        self._clock = clock
        self._consent = consent
        self._questions = questions
        self._marketing = marketing
        self._rights = rights
        self._changes = changes
        self._forgetting = forgetting
        self._linking = linking
        self._stopping = stopping
        self._parts = tuple(parts)

    # -- use cases -----------------------------------------------------------------

    def withdraws(self, text: str) -> bool:
        """Whether `text` withdraws consent, whatever NLU made of it ("stop", "stop texting me")."""
        return self._bank.is_opt_out(text)

    def welcome(self, incoming: Incoming, state: SessionState) -> Turn:
        """Greet; say what is known to a returning shopper; then ask consent or a question."""
        if self.withdraws(incoming.text):
            return self.opt_out(incoming, state)
        return self._run(incoming, state, self._welcome)

    def reply(self, incoming: Incoming, state: SessionState) -> Turn:
        """Handle any reply: to what the bot is waiting for, or out of the blue."""
        if self.withdraws(incoming.text):
            return self.opt_out(incoming, state)
        return self._run(incoming, state, self._reply)

    def opt_out(self, incoming: Incoming, state: SessionState) -> Turn:
        """Stop profiling at once on explicit words; ask first when only NLU read an opt-out."""
        if explicit_opt_out(self._bank, incoming):
            return self._run(incoming, state, self._opt_out)
        return self._run(incoming, state, self._stopping.ask)

    def link(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Link my accounts": a one-time code, or redeem the code the message carries."""
        return self._run(incoming, state, self._linking.link)

    def unlink(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Unlink": this chat's account gets a person of its own again."""
        return self._run(incoming, state, self._linking.unlink)

    def what_we_know(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "What do you know about me?": every stored value and where it came from."""
        return self._run(incoming, state, self._then_repeat(self._rights.what_we_know))

    def export(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Export my data": the shopper's data as JSON, inline or as a one-time link."""
        return self._run(incoming, state, self._then_repeat(self._rights.export))

    def change(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "That's wrong" / "change my ...": correct a stored answer (history kept)."""
        return self._run(incoming, state, self._change)

    def forget(self, incoming: Incoming, state: SessionState) -> Turn:
        """ "Forget me": ask for confirmation first; nothing is erased yet."""
        message, waiting = self._forgetting.ask(state)
        return Turn([message], waiting)

    def known_summary(self, person: Person) -> str:
        """What we remember, in plain words ("you'd like to hear from us by SMS; ...")."""
        parts = []
        current = person.current_values()
        for question in self._bank.by_priority():
            value = current.get(question.id)
            if value is not None and value.provenance is Provenance.STATED:
                parts.append(question.remember.format(value=summarize(question, value.value)))
        return "; ".join(parts)

    # -- plumbing ------------------------------------------------------------------

    def _run(self, incoming: Incoming, state: SessionState, handler: Handler) -> Turn:
        with self._uow_factory() as uow:
            at = self._clock()
            person = uow.profiles.get_or_create(identity=incoming.identity, at=at)
            ctx = TurnContext(uow, person, incoming, at)
            new_state = handler(ctx, state)
            uow.commit()
        turn = Turn(messages=ctx.messages, state=new_state)
        for effect in ctx.after_commit:
            done = effect()
            turn = dataclasses.replace(
                turn,
                messages=[*turn.messages, *done.messages],
                erased=(*turn.erased, *done.erased),
                notices=(*turn.notices, *done.notices),
            )
        return turn

    def _owner(self, pending: str | None) -> DialoguePart | None:
        if not pending:
            return None
        return next((part for part in self._parts if part.owns(pending)), None)

    def _repeat_pending(self, ctx: TurnContext, state: SessionState) -> SessionState | None:
        """Ask again whatever the bot was waiting for; None when nothing was pending."""
        owner = self._owner(state.pending)
        return owner.repeat(ctx, state) if owner is not None else None

    def _then_repeat(self, use: Callable[[TurnContext], None]) -> Handler:
        """`use`, then the open question (if any) asked again; the session state stays."""

        def handler(ctx: TurnContext, state: SessionState) -> SessionState:
            use(ctx)
            self._repeat_pending(ctx, state)
            return state

        return handler

    # -- welcome -------------------------------------------------------------------

    def _welcome(self, ctx: TurnContext, state: SessionState) -> SessionState:
        if not state.greeted:
            known = self.known_summary(ctx.person)
            returning = bool(known or ctx.person.consents or ctx.person.questions)
            ctx.say(self._words("intro_returning" if returning else "intro"))
            if known:
                ctx.say(self._words("known_summary", summary=known))
            state = dataclasses.replace(state, greeted=True)
        repeated = self._repeat_pending(ctx, state)
        if repeated is not None and repeated.pending:
            return repeated
        return self._consent.offer(ctx, (repeated or state).waiting(None, state.clarify))

    # -- replies -------------------------------------------------------------------

    def _reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        owner = self._owner(state.pending)
        if owner is self._stopping:
            resumed = self._stopping.reply(ctx, state)  # yes or not: decided now
            if resumed.pending:
                self._repeat_pending(ctx, resumed)
            return resumed
        if owner is self._forgetting or state.pending == LINK_NOTICE:
            assert owner is not None
            answered = owner.reply(ctx, state)  # answered before anything else
            if answered is not None:
                return answered
            state = state.settled()
        linked = self._linking.intercept(ctx, state)
        if linked is not None:
            return linked
        if state.pending == LINK_CODE:
            state = state.settled()
        if not has_words(ctx.incoming.text):
            # "👍" or "🤷" decides nothing (consent least of all): it is asked about.
            ctx.incoming = dataclasses.replace(ctx.incoming, intent="nlu_fallback", mentions=[])
        intent = ctx.incoming.intent
        if intent == "goodbye":
            ctx.say(self._words("goodbye"))
            return state.settled()
        if intent == "help":
            ctx.say(self._words("help"))
            return self._welcome(ctx, state)
        owner = self._owner(state.pending)
        if owner is not None:
            answered = owner.reply(ctx, state)
            if answered is not None:
                return answered
        return self._out_of_the_blue(ctx, state)

    def _out_of_the_blue(self, ctx: TurnContext, state: SessionState) -> SessionState:
        if self._questions.try_correction(ctx, state):
            return state
        intent = ctx.incoming.intent
        if intent == "thanks":
            ctx.say(self._words("thanks"))
            return state
        if intent == "greet":
            return self._welcome(ctx, state)
        ctx.say(self._words("help"))
        return state

    def _change(self, ctx: TurnContext, state: SessionState) -> SessionState:
        changed = self._changes.start(ctx, state)
        if changed.pending == state.pending:
            self._repeat_pending(ctx, changed)  # the question that was open, asked again
        return changed

    # -- opt-out -------------------------------------------------------------------

    def _opt_out(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """Withdraw what the message names ("stop texting me": SMS marketing; "stop": all).

        After everything or profiling is withdrawn, nothing stays pending; after a
        single marketing purpose, the open question (if any) is asked again.
        """
        channels = [m.text for m in ctx.incoming.mentions if m.entity == "channel"]
        words = self._vocabulary_channels(channels)
        purposes = self._marketing.targets(ctx.incoming.text, words)
        everything = self._marketing.withdraw(ctx, purposes)
        if everything or PROFILING in purposes or parse_marketing(state.pending):
            return state.settled()
        self._repeat_pending(ctx, state)
        return state

    def _vocabulary_channels(self, texts: list[str]) -> list[str]:
        words = self._vocabulary.of("channel")
        return [value for text in texts for value in words.lookup(text)]
