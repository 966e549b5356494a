"""problem_versions.languages: the languages a problem accepts (problem.yaml `languages`,
2025-09); NULL, as for every version imported before, means every language

A column of its own: the starter templates cannot tell it (a version imported before a
language existed has no template for it, yet accepts it).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("problem_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("languages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("problem_versions", schema=None) as batch_op:
        batch_op.drop_column("languages")
