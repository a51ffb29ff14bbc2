"""The conversation as bot/bootstrap.py wires it, for tests on any store backend.

`conversation` calls the same `build_conversation` as the composition root, with the
same services; a test passes its own only where it must see or steer one (a linking
service with known codes, an erasure service it also calls, exports with a public URL).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from bot.adapters.content import load_rules
from bot.dialogue import ConversationService, ProfilingPolicy, build_conversation
from bot.domain.patterns import PatternRules
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.erasure import ErasureService
from bot.services.exports import DataExports, ExportPolicy
from bot.services.linking import LinkingService
from bot.store.ports import UnitOfWorkFactory

ROOT = Path(__file__).resolve().parent.parent
KEY = "pseudonym-key-for-tests-0123456789"


def conversation(
    uow_factory: UnitOfWorkFactory,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    clock: Callable[[], datetime],
    *,
    questions_per_session: int = 3,
    shop_name: str = "Calmly",
    rules: PatternRules | None = None,
    linking: LinkingService | None = None,
    erasure: ErasureService | None = None,
    exports: DataExports | None = None,
    key: str = KEY,
) -> ConversationService:
    """Every part of the conversation on `uow_factory`, as in production."""
    policy = ProfilingPolicy(questions_per_session=questions_per_session, shop_name=shop_name)
    return build_conversation(
        uow_factory,
        bank,
        vocabulary,
        policy,
        clock=clock,
        rules=rules or load_rules(ROOT / "shop" / "purchase_rules.yml"),
        linking=linking or LinkingService(uow_factory, bank, clock, key=key),
        erasure=erasure or ErasureService(uow_factory, key, clock),
        exports=exports or DataExports(uow_factory, ExportPolicy(), clock),
    )
