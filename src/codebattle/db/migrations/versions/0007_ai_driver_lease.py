"""the AI opponent's driver: which task plays it, and until when that task holds it

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ai_driver", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("ai_lease_until", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("ai_lease_until")
        batch_op.drop_column("ai_driver")
