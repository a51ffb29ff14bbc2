"""Tombstones: salted hashes of erased identities, so an import cannot re-create them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("identity_hash", sa.String(64), nullable=False),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("identity_hash", name="pk_tombstones"),
    )


def downgrade() -> None:
    op.drop_table("tombstones")
