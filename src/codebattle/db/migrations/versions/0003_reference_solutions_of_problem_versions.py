"""reference solutions of problem versions

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("problem_versions", schema=None) as batch_op:
        # Versions imported before this migration have none (re-import to add them).
        batch_op.add_column(
            sa.Column("solutions", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("problem_versions", schema=None) as batch_op:
        batch_op.drop_column("solutions")
