"""The conversation, one part per file; `build_conversation` wires the parts together."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from bot.dialogue.consent import ProfilingConsent
from bot.dialogue.dispatcher import ConversationService
from bot.dialogue.linking import Linking
from bot.dialogue.marketing import Marketing, MarketingPart
from bot.dialogue.parts import Wording
from bot.dialogue.purchases import PurchasePart, Purchases
from bot.dialogue.questions import ProfilingPolicy, Questions
from bot.dialogue.rights import Changes, Forgetting, Rights
from bot.dialogue.stopping import StopCheck
from bot.domain.patterns import PatternRules
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.erasure import ErasureService
from bot.services.exports import DataExports
from bot.services.linking import LinkingService
from bot.store.ports import UnitOfWorkFactory

__all__ = ["ConversationService", "ProfilingPolicy", "build_conversation"]


def build_conversation(
    uow_factory: UnitOfWorkFactory,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    policy: ProfilingPolicy,
    *,
    clock: Callable[[], datetime],
    rules: PatternRules,
    linking: LinkingService,
    erasure: ErasureService,
    exports: DataExports,
) -> ConversationService:
    """The conversation of one shop, with every part (as production and tests build it)."""
    words = Wording(bank, policy.shop_name)
    marketing = Marketing(words, vocabulary)
    purchases = Purchases(words, vocabulary, rules)
    questions = Questions(words, vocabulary, policy, marketing, purchases)
    consent = ProfilingConsent(words, questions)
    changes = Changes(words, vocabulary, marketing.offer)
    forgetting = Forgetting(words, erasure)
    talk_linking = Linking(words, linking)
    stopping = StopCheck(words, marketing)
    parts = (
        stopping,
        forgetting,
        talk_linking,
        consent,
        changes,
        MarketingPart(marketing, questions.continue_after),
        PurchasePart(purchases, questions.continue_after),
        questions,
    )
    return ConversationService(
        uow_factory,
        words,
        vocabulary,
        clock,
        consent=consent,
        questions=questions,
        marketing=marketing,
        rights=Rights(words, exports),
        changes=changes,
        forgetting=forgetting,
        linking=talk_linking,
        stopping=stopping,
        parts=parts,
    )
