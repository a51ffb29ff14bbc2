"""Builds the services from settings, once per process and only when first needed."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bot.config import Settings, load_settings
from bot.domain.model import utcnow
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.content import load_content
from bot.services.conversation import ConversationService, ProfilingPolicy
from bot.services.erasure import ErasureService, load_or_create_salt
from bot.services.linking import LinkingService
from bot.services.orders import OrderService
from bot.services.patterns import load_rules
from bot.services.purchase_talk import PurchaseTalk
from bot.services.rights_talk import DataExports, ExportPolicy
from bot.store.sql import SqlUnitOfWorkFactory, make_engine


@dataclass(frozen=True)
class Services:
    """Everything an entry point (action server, web app, CLI) needs."""

    settings: Settings
    uow_factory: SqlUnitOfWorkFactory
    bank: QuestionBank
    vocabulary: Vocabulary
    conversation: ConversationService
    orders: OrderService
    exports: DataExports
    linking: LinkingService
    key: str
    """The installation's pseudonym key (var/erasure.salt): never stored in the database."""


def build_services(settings: Settings) -> Services:
    """Wire the store, the shop content and the use cases for `settings`."""
    bank, vocabulary = load_content(settings.content_dir)
    uow_factory = SqlUnitOfWorkFactory(make_engine(settings.resolved_database_url))
    policy = ProfilingPolicy(
        questions_per_session=settings.questions_per_session,
        consent_retry_days=settings.consent_retry_days,
        shop_name=settings.shop_name,
    )
    rules = load_rules(settings.content_dir / "purchase_rules.yml")
    key = load_or_create_salt(settings.var_dir / "erasure.salt")
    erasure = ErasureService(uow_factory, key, utcnow)
    linking = LinkingService(uow_factory, bank, utcnow, key=key)
    exports = DataExports(
        uow_factory,
        ExportPolicy(public_url=settings.public_url, link_minutes=settings.export_link_minutes),
        utcnow,
    )
    conversation = ConversationService(
        uow_factory,
        bank,
        vocabulary,
        policy,
        clock=utcnow,
        linking=linking,
        purchases=PurchaseTalk(bank, vocabulary, rules),
        erasure=erasure,
        exports=exports,
    )
    orders = OrderService(uow_factory, rules, clock=utcnow, erasure=erasure)
    return Services(
        settings, uow_factory, bank, vocabulary, conversation, orders, exports, linking, key
    )


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """The process-wide services, built from the environment on first use."""
    global _services
    with _lock:
        if _services is None:
            _services = build_services(load_settings())
        return _services


def reset_services() -> None:
    """Forget the process-wide services (tests, or after the environment changed)."""
    global _services
    with _lock:
        if _services is not None:
            _services.uow_factory.engine.dispose()
        _services = None
