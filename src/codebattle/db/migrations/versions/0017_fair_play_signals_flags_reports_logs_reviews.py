"""Fair play and reviews: editor_telemetry (batches of a player's editor events),
risk_assessments (explainable scores), player_reports, fairplay_flags (what an operator
looks at), ai_text_results (GPTZero answers by content hash), log_records (the embedded log
sink), code_reviews, users.review_consent, submissions.created_at indexed (fair play's
pass reads the recent ones) and matches.rating_state (a rated game's rating
change waits for fair play: pending, rated or held). Games rated before are "rated".

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from codebattle.db.base import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_text_results",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_ai_text_results")),
    )
    op.create_table(
        "log_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index", sa.String(length=32), nullable=False),
        sa.Column("doc_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_records")),
        sa.UniqueConstraint("index", "doc_id", name=op.f("uq_log_records_index")),
    )
    with op.batch_alter_table("log_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_records_created_at"), ["created_at"], unique=False)

    op.create_table(
        "editor_telemetry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_editor_telemetry_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_editor_telemetry_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_editor_telemetry_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_editor_telemetry_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_telemetry")),
    )
    with op.batch_alter_table("editor_telemetry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_editor_telemetry_match_id"), ["match_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_editor_telemetry_room_id"), ["room_id"], unique=False)

    op.create_table(
        "player_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reported_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_player_reports_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reported_id"],
            ["users.id"],
            name=op.f("fk_player_reports_reported_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_player_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_player_reports")),
        sa.UniqueConstraint("reporter_id", "match_id", name=op.f("uq_player_reports_reporter_id")),
    )
    with op.batch_alter_table("player_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_player_reports_reported_id"), ["reported_id"], unique=False
        )

    op.create_table(
        "code_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_code_reviews_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_code_reviews_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_reviews")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_code_reviews_submission_id")),
    )
    with op.batch_alter_table("code_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_reviews_user_id"), ["user_id"], unique=False)

    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_risk_assessments_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_risk_assessments_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_risk_assessments_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_risk_assessments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
        sa.UniqueConstraint("key", name=op.f("uq_risk_assessments_key")),
    )
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_assessments_match_id"), ["match_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_risk_assessments_room_id"), ["room_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_risk_assessments_submission_id"), ["submission_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_risk_assessments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "fairplay_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_fairplay_flags_assessment_id_risk_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_fairplay_flags_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_fairplay_flags_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["player_reports.id"],
            name=op.f("fk_fairplay_flags_report_id_player_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_fairplay_flags_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_fairplay_flags_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_fairplay_flags_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fairplay_flags")),
        sa.UniqueConstraint("key", name=op.f("uq_fairplay_flags_key")),
    )
    with op.batch_alter_table("fairplay_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fairplay_flags_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_fairplay_flags_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submissions_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("similarity_matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating_state", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_matches_rating_state"), ["rating_state"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_consent", sa.Boolean(), nullable=True))
    op.execute("UPDATE matches SET rating_state = 'rated' WHERE rated AND state = 'finished'")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("review_consent")

    with op.batch_alter_table("similarity_matches", schema=None) as batch_op:
        batch_op.drop_column("shared")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_created_at"))
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_rating_state"))
        batch_op.drop_column("rating_state")

    with op.batch_alter_table("fairplay_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fairplay_flags_user_id"))
        batch_op.drop_index(batch_op.f("ix_fairplay_flags_status"))

    op.drop_table("fairplay_flags")
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_assessments_user_id"))
        batch_op.drop_index(batch_op.f("ix_risk_assessments_submission_id"))
        batch_op.drop_index(batch_op.f("ix_risk_assessments_room_id"))
        batch_op.drop_index(batch_op.f("ix_risk_assessments_match_id"))

    op.drop_table("risk_assessments")
    with op.batch_alter_table("code_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_reviews_user_id"))

    op.drop_table("code_reviews")
    with op.batch_alter_table("player_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_player_reports_reported_id"))

    op.drop_table("player_reports")
    with op.batch_alter_table("editor_telemetry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_editor_telemetry_room_id"))
        batch_op.drop_index(batch_op.f("ix_editor_telemetry_match_id"))

    op.drop_table("editor_telemetry")
    with op.batch_alter_table("log_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_records_created_at"))

    op.drop_table("log_records")
    op.drop_table("ai_text_results")
