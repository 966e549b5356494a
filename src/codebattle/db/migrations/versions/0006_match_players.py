"""match players: who plays in which match, indexed by player

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_players",
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"], ["matches.id"], name=op.f("fk_match_players_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_match_players_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("match_id", "user_id", name=op.f("pk_match_players")),
    )  # fmt: skip
    with op.batch_alter_table("match_players", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_players_user_id"), ["user_id"], unique=False)
    # Matches created before: their players are in the state machine's JSON.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, fsm FROM matches")).all()
    players = [
        {"match_id": match_id, "user_id": player["user_id"]}
        for match_id, data in rows
        for player in (json.loads(data) if isinstance(data, str) else data)["players"]
    ]
    if players:
        connection.execute(
            sa.text("INSERT INTO match_players (match_id, user_id) VALUES (:match_id, :user_id)"),
            players,
        )


def downgrade() -> None:
    with op.batch_alter_table("match_players", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_players_user_id"))
    op.drop_table("match_players")
