"""Orders, order items, purchase flags and contexts, reminder candidates, API tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 05:43:56.076055
"""

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("ordered_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_orders_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_person_id", ["person_id"], unique=False)

    op.create_table(
        "purchase_contexts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("recipient_relation", sa.String(length=64), nullable=True),
        sa.Column("occasion", sa.String(length=64), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("message_ref", sa.String(length=128), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_purchase_contexts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_contexts")),
    )
    with op.batch_alter_table("purchase_contexts", schema=None) as batch_op:
        batch_op.create_index("ix_purchase_contexts_person_id", ["person_id"], unique=False)

    op.create_table(
        "purchase_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_purchase_flags_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_flags")),
    )
    with op.batch_alter_table("purchase_flags", schema=None) as batch_op:
        batch_op.create_index("ix_purchase_flags_person_id", ["person_id"], unique=False)

    op.create_table(
        "reminder_candidates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=64), nullable=False),
        sa.Column("recipient_relation", sa.String(length=64), nullable=True),
        sa.Column("remind_on", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_reminder_candidates_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_candidates")),
    )
    with op.batch_alter_table("reminder_candidates", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_candidates_person_id", ["person_id"], unique=False)

    op.create_table(
        "order_items",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.order_id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "line", name=op.f("pk_order_items")),
    )


def downgrade() -> None:
    op.drop_table("order_items")
    with op.batch_alter_table("reminder_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_candidates_person_id")

    op.drop_table("reminder_candidates")
    with op.batch_alter_table("purchase_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_flags_person_id")

    op.drop_table("purchase_flags")
    with op.batch_alter_table("purchase_contexts", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_contexts_person_id")

    op.drop_table("purchase_contexts")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_person_id")

    op.drop_table("orders")
    op.drop_table("api_tokens")
