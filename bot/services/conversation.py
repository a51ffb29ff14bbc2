"""The profiling conversation: consent, questions, opt-out by purpose, and the shopper's rights.

Each use case takes the session state (kept in Rasa slots) and the incoming message
as plain values, reads and writes the profile store through a unit of work, and
returns what to say plus the new session state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from bot.domain.linking import bare_code, code_anywhere, named_code
from bot.domain.model import (
    PROFILING,
    ConsentStatus,
    Person,
    Provenance,
)
from bot.domain.questions import Button, QuestionBank, Vocabulary
from bot.services import planner
from bot.services.consent_talk import (
    ConsentTalk,
    parse_marketing,
    record_consent,
)
from bot.services.erasure import ErasureService
from bot.services.interpret import (
    summarize,
)
from bot.services.linking import LinkingService, LinkResult
from bot.services.purchase_talk import PurchaseTalk, parse_pending
from bot.services.questioning import DECLINE_INTENTS, Questions
from bot.services.rights_talk import CHANGE, ChangeTalk, DataExports
from bot.services.transparency import profile_summary
from bot.services.turn import BotMessage, Incoming, Notice, SessionState, Turn, TurnContext
from bot.store.ports import UnitOfWorkFactory

FORGET = "__forget__"
"""`SessionState.pending` while the bot waits for "yes, delete everything"."""

CONSENT = "__consent__"
"""`SessionState.pending` while the bot waits for a yes/no to profiling."""

LINK_CODE = "__link_code__"
"""`SessionState.pending` right after "link my accounts": a bare code typed now is redeemed."""

LINK_NOTICE = "__link_notice__"
"""`SessionState.pending` of the chat told its code was used: "was that you?" (`clarify`
holds the join's id)."""


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
    """The use cases behind Rapport's dialogue actions (one per action in actions/)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        bank: QuestionBank,
        vocabulary: Vocabulary,
        policy: ProfilingPolicy,
        clock: Callable[[], datetime],
        linking: LinkingService,
        purchases: PurchaseTalk | None = None,
        erasure: ErasureService | None = None,
        exports: DataExports | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._linking = linking
        self._purchases = purchases
        self._erasure = erasure
        self._exports = exports
        self._consents = ConsentTalk(bank, vocabulary, policy.shop_name)
        self._changes = ChangeTalk(bank, vocabulary, policy.shop_name, self._consents.offer)
        self._questions = Questions(bank, vocabulary, policy, self._consents, purchases)
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

        A link code is redeemed only where a code makes sense: said to be one ("link
        K7QM-4XR2", "my code is ..."), or typed alone right after "link my accounts".
        A bare code anywhere else is not tried: the shopper is told how to use it.
        """
        if self._bank.is_opt_out(incoming.text):
            return self.opt_out(incoming, state)
        if state.pending == FORGET:
            return self._forget_reply(incoming, state)
        if state.pending == LINK_NOTICE:
            turn = self._notice_reply(incoming, state)
            if turn is not None:
                return turn
            state = dataclasses.replace(state, pending=None, clarify=None)
        code = named_code(incoming.text)
        bare = bare_code(incoming.text)
        if code is None and bare is not None and state.pending == LINK_CODE:
            code = bare
        if state.pending == LINK_CODE:
            state = dataclasses.replace(state, pending=None)
        if code is not None:
            return self._redeem(incoming, code, state)
        if bare is not None:
            return Turn([BotMessage(self._msg("link_code_hint"))], state)
        return self._run(incoming, state, self._reply)

    def _notice_reply(self, incoming: Incoming, state: SessionState) -> Turn | None:
        """ "Was that you?": yes keeps the link, no (or "undo") undoes it; else None."""
        join_id = (state.clarify or {}).get("join")
        done = dataclasses.replace(state, pending=None, clarify=None)
        if not isinstance(join_id, int):
            return None
        # Only the notice's own buttons (or "unlink") answer it: any other message is
        # handled as usual, and the link stays (it can still be undone with "unlink").
        text = incoming.text.strip().casefold()
        if text == self._msg("link_notice_no").casefold() or incoming.intent == "unlink_accounts":
            return self._linked(self._linking.undo(incoming.identity, join_id), done)
        if text == self._msg("link_notice_yes").casefold():
            return self._linked(self._linking.keep(join_id), done)
        return None

    def _notice_buttons(self) -> tuple[Button, ...]:
        yes, no = self._msg("link_notice_yes"), self._msg("link_notice_no")
        return (Button(yes, yes), Button(no, no))

    def _redeem(self, incoming: Incoming, code: str, state: SessionState) -> Turn:
        result = self._linking.redeem(incoming.identity, code, source=incoming.source)
        turn = self._linked(result, state)
        if result.notice is not None:
            text = self._linking.notice_text(result.notice)
            message = BotMessage(text, self._notice_buttons())
            clarify = {"join": result.notice.join_id, "text": text}
            notice = Notice(result.notice.issuer, message, LINK_NOTICE, clarify)
            turn = dataclasses.replace(turn, notices=(notice,))
        return turn

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
        """ "Link my accounts": redeem the code the message carries, or give a one-time code.

        After giving a code, a code typed alone as the next message is redeemed too (the
        shopper may be on the second chat already).
        """
        code = named_code(incoming.text) or code_anywhere(incoming.text)
        if code is not None:
            return self._redeem(incoming, code, state)
        issued = self._linked(self._linking.issue_code(incoming.identity), state)
        return dataclasses.replace(
            issued, state=dataclasses.replace(state, pending=LINK_CODE, clarify=None)
        )

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
        """ "Unlink": this chat's account gets a person of its own again.

        Said in answer to "your link code was just used", it undoes that link instead:
        the account that joined goes, this one keeps what it had.
        """
        if state.pending == LINK_NOTICE:
            turn = self._notice_reply(incoming, state)
            if turn is not None:
                return turn
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
        elif state.pending == LINK_NOTICE and isinstance((state.clarify or {}).get("text"), str):
            ctx.say(str((state.clarify or {})["text"]), self._notice_buttons())
        elif parse_pending(state.pending) and self._purchases:
            self._purchases.again(ctx, state)
        elif parse_marketing(state.pending):
            self._consents.again(ctx, state)
        elif state.pending and self._bank.has(state.pending):
            self._questions.ask(ctx, state, self._bank.get(state.pending), again=True)
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
        consent = self._questions.consent_state(ctx.person, ctx.at)
        if consent is planner.ConsentState.ASK:
            self._ask_consent(ctx)
            state.pending = CONSENT
        elif not (
            consent is planner.ConsentState.GRANTED and self._questions.ask_something(ctx, state)
        ):
            ctx.say(self._msg("help"))

    def _ask_consent(self, ctx: TurnContext) -> None:
        ctx.say(self._msg("consent_request"), self._consent_buttons())

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
            return self._questions.continue_after(
                ctx, dataclasses.replace(state, pending=None, clarify=None)
            )
        if parse_pending(state.pending) and self._purchases:
            if self._purchases.reply(ctx, state):
                return state
            return self._questions.continue_after(ctx, state)
        if state.pending and self._bank.has(state.pending):
            return self._questions.answer_reply(ctx, state, self._bank.get(state.pending))
        if self._questions.try_correction(ctx, state):
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
            if not self._questions.ask_something(ctx, state, preface=self._msg("consent_granted")):
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
