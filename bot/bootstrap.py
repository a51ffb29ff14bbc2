"""The composition root: settings, store and services, built once per process.

Every entry point gets its services here and nowhere else: the action server
(bot/actionserver.py) when it starts, Rasa's channels when Rasa builds them
(`blueprint()`), the web app when it is created, the CLI per command. Nothing is built
per message. Tests build `Services` from explicit settings with `build`, on any store
backend (`uow_factory=`) and with their own clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from bot.adapters.content import load_content, load_rules
from bot.config import Settings, load_settings
from bot.dialogue import ConversationService, ProfilingPolicy, build_conversation
from bot.domain.model import utcnow
from bot.domain.patterns import PatternRules
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.erasure import ErasureService, load_or_create_salt
from bot.services.exports import DataExports, ExportPolicy
from bot.services.linking import LinkingService
from bot.services.orders import OrderService
from bot.services.retention import RetentionPolicy, RetentionService
from bot.store.ports import UnitOfWorkFactory
from bot.store.sql import SqlUnitOfWorkFactory, make_engine

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Services:
    """Everything an entry point needs, wired for one set of settings."""

    settings: Settings
    uow_factory: UnitOfWorkFactory
    bank: QuestionBank
    vocabulary: Vocabulary
    rules: PatternRules
    key: str
    """The installation's pseudonym key (var/erasure.salt): never stored in the database."""
    clock: Clock
    conversation: ConversationService
    orders: OrderService
    exports: DataExports
    linking: LinkingService
    erasure: ErasureService
    retention: RetentionService

    def close(self) -> None:
        """Release the store's connections (SQL backends)."""
        if isinstance(self.uow_factory, SqlUnitOfWorkFactory):
            self.uow_factory.engine.dispose()


def build(
    settings: Settings, *, uow_factory: UnitOfWorkFactory | None = None, clock: Clock = utcnow
) -> Services:
    """Wire the store, the shop's content and every use case for `settings`."""
    bank, vocabulary = load_content(settings.content_dir)
    rules = load_rules(settings.content_dir / "purchase_rules.yml")
    if uow_factory is None:
        uow_factory = SqlUnitOfWorkFactory(make_engine(settings.resolved_database_url))
    key = load_or_create_salt(settings.var_dir / "erasure.salt")
    erasure = ErasureService(uow_factory, key, clock)
    linking = LinkingService(uow_factory, bank, clock, key=key)
    exports = DataExports(
        uow_factory,
        ExportPolicy(public_url=settings.public_url, link_minutes=settings.export_link_minutes),
        clock,
    )
    policy = ProfilingPolicy(
        questions_per_session=settings.questions_per_session,
        consent_retry_days=settings.consent_retry_days,
        shop_name=settings.shop_name,
    )
    conversation = build_conversation(
        uow_factory,
        bank,
        vocabulary,
        policy,
        clock=clock,
        rules=rules,
        linking=linking,
        erasure=erasure,
        exports=exports,
    )
    retention = RetentionService(
        uow_factory,
        clock,
        RetentionPolicy(receipt_days=settings.receipt_days, anonymous_days=settings.anonymous_days),
    )
    return Services(
        settings=settings,
        uow_factory=uow_factory,
        bank=bank,
        vocabulary=vocabulary,
        rules=rules,
        key=key,
        clock=clock,
        conversation=conversation,
        orders=OrderService(uow_factory, rules, clock=clock, erasure=erasure),
        exports=exports,
        linking=linking,
        erasure=erasure,
        retention=retention,
    )


def upgrade_store(settings: Settings) -> None:
    """Apply the profile store's migrations (`rapport db upgrade`)."""
    from bot.store.migrate import upgrade

    upgrade(settings.resolved_database_url)


_lock = threading.Lock()
_services: Services | None = None


def for_process() -> Services:
    """The services of this process, built from the environment by the first entry point.

    Rasa builds each channel in the same process; they share one set (one engine, one
    pseudonym key) instead of each building its own.
    """
    global _services
    with _lock:
        if _services is None:
            _services = build(load_settings())
        return _services


__all__ = ["Services", "build", "for_process", "upgrade_store"]
