"""submission_fingerprints: an accepted game submission's similarity fingerprint, stored
once and compared with later ones; similarity_matches: what it was found much like (another
submission, or a reference solution of its problem version), each comparison once.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from codebattle.db.base import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_fingerprints",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_submission_fingerprints_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_fingerprints_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_fingerprints")),
    )
    with op.batch_alter_table("submission_fingerprints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_fingerprints_problem_id"), ["problem_id"], unique=False
        )
    op.create_table(
        "similarity_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("other_kind", sa.String(length=16), nullable=False),
        sa.Column("other_submission_id", sa.Integer(), nullable=True),
        sa.Column("other_language", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("a_in_b", sa.Float(), nullable=False),
        sa.Column("b_in_a", sa.Float(), nullable=False),
        sa.Column("fragments", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["other_submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_matches_other_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_matches_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_matches")),
        sa.UniqueConstraint(
            "submission_id",
            "other_kind",
            "other_submission_id",
            "other_language",
            name=op.f("uq_similarity_matches_submission_id"),
        ),
    )
    with op.batch_alter_table("similarity_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_similarity_matches_submission_id"), ["submission_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("similarity_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_similarity_matches_submission_id"))
    op.drop_table("similarity_matches")
    with op.batch_alter_table("submission_fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_fingerprints_problem_id"))
    op.drop_table("submission_fingerprints")
