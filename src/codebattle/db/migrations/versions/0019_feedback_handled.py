"""Feedback an operator has dealt with: feedback.handled_at and handled_by (the inbox shows
the open ones by default).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from codebattle.db.base import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handled_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_handled_by_users"), "users", ["handled_by"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_feedback_handled_by_users"), type_="foreignkey")
        batch_op.drop_column("handled_by")
        batch_op.drop_column("handled_at")
