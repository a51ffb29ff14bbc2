"""SQLAlchemy Core tables of the profile store (the Alembic migrations must match them)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the profile store")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)


people = Table(
    "people",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("channel", "external_id", name="uq_identities_channel_external_id"),
    Index("ix_identities_person_id", "person_id"),
)

attribute_values = Table(
    "attribute_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("attribute", String(64), nullable=False),
    Column("value_json", Text, nullable=False),
    Column("provenance", String(16), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("message_ref", String(128), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("superseded_at", UtcDateTime(), nullable=True),
    Index("ix_attribute_values_person_attribute", "person_id", "attribute"),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("message_ref", String(128), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("wording_hash", String(64), nullable=True),
    Index("ix_consents_person_purpose", "person_id", "purpose"),
)

consent_wordings = Table(
    "consent_wordings",
    metadata,
    Column("wording_hash", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("first_shown_at", UtcDateTime(), nullable=False),
)

data_exports = Table(
    "data_exports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Index("ix_data_exports_person_id", "person_id"),
)

question_states = Table(
    "question_states",
    metadata,
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("question_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("asked_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("why_asked", Integer, nullable=False, default=0),
)

inbound_receipts = Table(
    "inbound_receipts",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("received_at", UtcDateTime(), nullable=False),
)

link_codes = Table(
    "link_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    # The chat that asked for the code: told when it is used (gone with the code).
    Column("issuer_channel", String(32), nullable=True),
    Column("issuer_external_id", String(255), nullable=True),
    Index("ix_link_codes_code_hash", "code_hash"),
)

# Wrong codes only, by pseudonyms of the chat and of its source address (never reset
# by a success; swept after a day).
link_attempts = Table(
    "link_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_key", String(64), nullable=False),
    Column("source_key", String(64), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_link_attempts_at", "at"),
    Index("ix_link_attempts_chat_key", "chat_key"),
    Index("ix_link_attempts_source_key", "source_key"),
)

# Identities a link joined, kept so the code's issuer can undo it (a few days).
link_joins = Table(
    "link_joins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("identities_json", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_link_joins_person_id", "person_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("person_id", String(32), nullable=False),
    Column("details_json", Text, nullable=False),
    Index("ix_audit_events_person_id", "person_id"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("ordered_at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("source", String(16), nullable=False),
    Index("ix_orders_person_id", "person_id"),
)

order_items = Table(
    "order_items",
    metadata,
    Column(
        "order_id", String(64), ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("line", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price", Numeric(12, 2), nullable=True),
)

purchase_flags = Table(
    "purchase_flags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("line", Integer, nullable=False),
    Column("item_name", String(200), nullable=False),
    Column("department", String(200), nullable=False),
    Column("reason", String(300), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_purchase_flags_person_id", "person_id"),
)

purchase_contexts = Table(
    "purchase_contexts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("line", Integer, nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("recipient_relation", String(64), nullable=True),
    Column("occasion", String(64), nullable=True),
    Column("provenance", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("message_ref", String(128), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_purchase_contexts_person_id", "person_id"),
)

reminder_candidates = Table(
    "reminder_candidates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(32), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("line", Integer, nullable=False),
    Column("occasion", String(64), nullable=False),
    Column("recipient_relation", String(64), nullable=True),
    Column("remind_on", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_reminder_candidates_person_id", "person_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("identity_hash", String(64), primary_key=True),
    Column("erased_at", UtcDateTime(), nullable=False),
)
