"""judge_outbox: a submission's job recorded with it, sent by a relay until the queue has
it, deleted when the verdict is recorded; submissions.reported_at: when the match or room a
submission counts for took its verdict. Submissions unfinished at upgrade get an outbox
entry due now, so their jobs are sent again; verdicts already recorded count as reported
(a practice submission's verdict is reported when it is recorded: no game waits for it).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from codebattle.db.base import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "judge_outbox",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_judge_outbox_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_judge_outbox")),
    )
    with op.batch_alter_table("judge_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_judge_outbox_due_at"), ["due_at"], unique=False)
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_at", UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_submissions_reported_at"), ["reported_at"], unique=False
        )
    op.execute(
        "INSERT INTO judge_outbox (submission_id, due_at, sends, created_at) "
        "SELECT id, CURRENT_TIMESTAMP, 0, CURRENT_TIMESTAMP FROM submissions "
        "WHERE status != 'done'"
    )
    op.execute("UPDATE submissions SET reported_at = finished_at WHERE status = 'done'")


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_reported_at"))
        batch_op.drop_column("reported_at")
    with op.batch_alter_table("judge_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_judge_outbox_due_at"))
    op.drop_table("judge_outbox")
