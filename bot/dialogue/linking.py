"""Linking accounts in conversation: codes where they make sense, and the issuer's answer.

Pending states this part owns: `__link_code__` right after "link my accounts" (a code
typed alone now is redeemed) and `__link_notice__` in the chat told that its code was
used ("Was that you?"; `clarify` holds the join's id and the notice's text). Linking
runs after the turn's own unit of work (bot/services/linking.py has its own).
"""

from __future__ import annotations

from bot.dialogue.parts import Wording
from bot.dialogue.turn import BotMessage, Effect, Notice, SessionState, TurnContext
from bot.domain.linking import bare_code, code_anywhere, named_code
from bot.domain.questions import Button
from bot.services.linking import LinkingService, LinkResult

LINK_CODE = "__link_code__"
"""`SessionState.pending` right after "link my accounts": a bare code typed now is redeemed."""

LINK_NOTICE = "__link_notice__"
"""`SessionState.pending` of the chat told its code was used: "was that you?"."""


def _messages(result: LinkResult) -> list[BotMessage]:
    return [BotMessage(text) for text in result.messages]


class Linking:
    """Codes in messages, the "link my accounts" use case, and the issuer's notice."""

    def __init__(self, words: Wording, linking: LinkingService) -> None:
        self._words = words
        self._linking = linking

    # -- the dialogue part ---------------------------------------------------------

    def owns(self, pending: str) -> bool:
        return pending in (LINK_CODE, LINK_NOTICE)

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState | None:
        """The answer to the notice (its buttons, or "unlink"); None for anything else."""
        if state.pending != LINK_NOTICE:
            return None
        join_id = (state.clarify or {}).get("join")
        if not isinstance(join_id, int):
            return None
        # Only the notice's own buttons (or "unlink") answer it: any other message is
        # handled as usual, and the link stays (it can still be undone with "unlink").
        text, identity = ctx.incoming.text.strip().casefold(), ctx.incoming.identity
        if text == self._words("link_notice_no").casefold() or (
            ctx.incoming.intent == "unlink_accounts"
        ):
            ctx.then(lambda: Effect(_messages(self._linking.undo(identity, join_id))))
        elif text == self._words("link_notice_yes").casefold():
            ctx.then(lambda: Effect(_messages(self._linking.keep(join_id))))
        else:
            return None
        return state.settled()

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        text = (state.clarify or {}).get("text")
        if state.pending == LINK_NOTICE and isinstance(text, str):
            ctx.say(text, self._notice_buttons())
            return state
        return state.settled()

    # -- codes ---------------------------------------------------------------------

    def intercept(self, ctx: TurnContext, state: SessionState) -> SessionState | None:
        """A code where a code makes sense is redeemed; a bare code elsewhere gets a hint.

        Redeemed: a message that says it is a code ("link K7QM-4XR2", "my code is ..."),
        whatever was pending (the open question stays open), or a code typed alone right
        after "link my accounts". Returns None when the message holds no code.
        """
        text = ctx.incoming.text
        code, bare = named_code(text), bare_code(text)
        if state.pending == LINK_CODE:
            state = state.settled()
            code = code or bare
        if code is not None:
            self._redeem(ctx, code)
            return state
        if bare is not None:
            ctx.say(self._words("link_code_hint"))
            return state
        return None

    def link(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """ "Link my accounts": redeem the code the message carries, or give a one-time code.

        After giving a code, a code typed alone as the next message is redeemed too (the
        shopper may be on the second chat already).
        """
        code = named_code(ctx.incoming.text) or code_anywhere(ctx.incoming.text)
        if code is not None:
            self._redeem(ctx, code)
            return state
        identity = ctx.incoming.identity
        ctx.then(lambda: Effect(_messages(self._linking.issue_code(identity))))
        return state.waiting(LINK_CODE)

    def unlink(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """ "Unlink": this chat stands alone again; said to a notice, it undoes that link."""
        answered = self.reply(ctx, state) if state.pending == LINK_NOTICE else None
        if answered is not None:
            return answered
        identity = ctx.incoming.identity
        ctx.then(lambda: Effect(_messages(self._linking.unlink(identity))))
        return state

    def _redeem(self, ctx: TurnContext, code: str) -> None:
        incoming = ctx.incoming

        def redeem() -> Effect:
            result = self._linking.redeem(incoming.identity, code, source=incoming.source)
            if result.notice is None:
                return Effect(_messages(result))
            text = self._linking.notice_text(result.notice)
            message = BotMessage(text, self._notice_buttons())
            clarify = {"join": result.notice.join_id, "text": text}
            notice = Notice(result.notice.issuer, message, LINK_NOTICE, clarify)
            return Effect(_messages(result), notices=(notice,))

        ctx.then(redeem)

    def _notice_buttons(self) -> tuple[Button, ...]:
        return (self._words.button("link_notice_yes"), self._words.button("link_notice_no"))
