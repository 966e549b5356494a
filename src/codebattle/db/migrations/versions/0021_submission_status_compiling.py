"""submissions.status grows from 8 to 16 characters: a submission being compiled is
"compiling" (9) before it runs its tests (issue 18).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=8), type_=sa.String(length=16),
            existing_nullable=False,
        )  # fmt: skip


def downgrade() -> None:
    # "compiling" does not fit the old width: such a submission is running again.
    op.execute("UPDATE submissions SET status = 'running' WHERE status = 'compiling'")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=8),
            existing_nullable=False,
        )  # fmt: skip
