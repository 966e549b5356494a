"""submissions.status grows from 8 to 16 characters: a submission being compiled is
"compiling" (9) before it runs its tests (issue 18). submissions.priority: its judge job's
level (judge/jobs.py), stored when it is made, since a run does not keep the match or room
it was made in; rows made before get theirs from kind, match and room (a run: a practice
run's level, as they were judged).

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

# MATCH 0, RUN 1, ROOM 2, PRACTICE 3 (judge/jobs.py, written out: a migration stays as it is).
_LEVEL_OF_OLD_ROWS = (
    "UPDATE submissions SET priority = CASE"
    " WHEN kind <> 'submit' THEN 1"
    " WHEN match_id IS NOT NULL THEN 0"
    " WHEN room_id IS NOT NULL THEN 2"
    " ELSE 3 END"
)


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=8), type_=sa.String(length=16),
            existing_nullable=False,
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="3", nullable=False)
        )
    op.execute(_LEVEL_OF_OLD_ROWS)


def downgrade() -> None:
    # "compiling" does not fit the old width: such a submission is running again.
    op.execute("UPDATE submissions SET status = 'running' WHERE status = 'compiling'")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("priority")
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=8),
            existing_nullable=False,
        )  # fmt: skip
