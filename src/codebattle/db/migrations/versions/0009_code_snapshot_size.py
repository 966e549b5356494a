"""code snapshots carry their size in bytes, so a player's snapshots per match can be capped
(count and bytes) without reading their code

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("code_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=False, server_default="0"))
    # Existing rows: their length in characters (bytes for ASCII code; close enough for a cap).
    snapshots = sa.table("code_snapshots", sa.column("code", sa.Text()), sa.column("size"))
    op.execute(snapshots.update().values(size=sa.func.length(snapshots.c.code)))


def downgrade() -> None:
    with op.batch_alter_table("code_snapshots", schema=None) as batch_op:
        batch_op.drop_column("size")
