"""scrub secret test details: feedback (stderr, expected tokens, validator messages) and wall
time of tests outside data/sample were stored and shown to players; drop them

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tests = sa.table(
        "submission_tests",
        sa.column("sample", sa.Boolean()),
        sa.column("feedback", sa.Text()),
        sa.column("wall_time", sa.Float()),
    )
    op.execute(tests.update().where(tests.c.sample.is_(False)).values(feedback="", wall_time=0.0))


def downgrade() -> None:
    pass  # what was scrubbed is gone for good
