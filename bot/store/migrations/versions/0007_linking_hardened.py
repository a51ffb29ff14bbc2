"""Linking hardened: who issued a code, wrong codes by pseudonym, joins that can be undone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Link attempts are recreated: the old rows named identities in the clear and lived a
day at most, so nothing of value is lost. Live codes keep working (no issuer known:
nobody is told when they are used).
"""

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_codes") as batch:
        batch.add_column(sa.Column("issuer_channel", sa.String(32), nullable=True))
        batch.add_column(sa.Column("issuer_external_id", sa.String(255), nullable=True))
    op.drop_index("ix_link_attempts_identity", table_name="link_attempts")
    op.drop_table("link_attempts")
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_key", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_link_attempts"),
    )
    op.create_index("ix_link_attempts_at", "link_attempts", ["at"])
    op.create_index("ix_link_attempts_chat_key", "link_attempts", ["chat_key"])
    op.create_index("ix_link_attempts_source_key", "link_attempts", ["source_key"])
    op.create_table(
        "link_joins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("identities_json", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name="fk_link_joins_person_id_people",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_link_joins"),
    )
    op.create_index("ix_link_joins_person_id", "link_joins", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_link_joins_person_id", table_name="link_joins")
    op.drop_table("link_joins")
    for name in ("ix_link_attempts_source_key", "ix_link_attempts_chat_key", "ix_link_attempts_at"):
        op.drop_index(name, table_name="link_attempts")
    op.drop_table("link_attempts")
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_link_attempts"),
    )
    op.create_index("ix_link_attempts_identity", "link_attempts", ["channel", "external_id"])
    with op.batch_alter_table("link_codes") as batch:
        batch.drop_column("issuer_external_id")
        batch.drop_column("issuer_channel")
