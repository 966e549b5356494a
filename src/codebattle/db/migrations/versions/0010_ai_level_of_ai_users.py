"""an AI user's level is a column of its own (users.ai_level), no longer read out of its
nickname ("AI (easy)"); existing AI users get theirs from their nicknames

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The levels as they were when this migration was written (battles/ai_offline.LEVELS).
LEVELS = ("easy", "medium", "hard")


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ai_level", sa.String(length=8), nullable=True))
    users = sa.table(
        "users", sa.column("nickname", sa.String()), sa.column("is_ai", sa.Boolean()),
        sa.column("ai_level", sa.String()),
    )  # fmt: skip
    for level in LEVELS:
        op.execute(
            users.update()
            .where(users.c.is_ai.is_(True), users.c.nickname == f"AI ({level})")
            .values(ai_level=level)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("ai_level")
