"""Consent wording hashes, the wordings themselves, and one-time data-export links.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("wording_hash", sa.String(64), nullable=True))
    op.create_table(
        "consent_wordings",
        sa.Column("wording_hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("first_shown_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("wording_hash", name="pk_consent_wordings"),
    )
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name="fk_data_exports_person_id_people",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_data_exports"),
        sa.UniqueConstraint("token_hash", name="uq_data_exports_token_hash"),
    )
    op.create_index("ix_data_exports_person_id", "data_exports", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_data_exports_person_id", table_name="data_exports")
    op.drop_table("data_exports")
    op.drop_table("consent_wordings")
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("wording_hash")
