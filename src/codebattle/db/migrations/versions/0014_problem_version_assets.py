"""problem_versions.assets: a statement's images and PDF statements, file name -> blob key,
served at /problems/<slug>/assets/<name>; NULL for versions imported before (no assets)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("problem_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assets", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("problem_versions", schema=None) as batch_op:
        batch_op.drop_column("assets")
