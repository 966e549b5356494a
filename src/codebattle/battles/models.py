"""Matches as stored: the match row (its state machine's state as JSON), its event log, the
players' code snapshots (the replay), chat, and the ranked queue. (Rooms: rooms/models.py.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow


class MatchRow(Base):
    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))  # "ranked" | "ai" | "room" | ...
    rated: Mapped[bool] = mapped_column(Boolean, default=False)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"))
    problem_version_id: Mapped[int] = mapped_column(ForeignKey("problem_versions.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)
    fsm: Mapped[dict[str, Any]] = mapped_column(JSON)  # battles.fsm.Match, serialised
    seq: Mapped[int] = mapped_column(Integer, default=0)  # the last event's sequence number
    next_deadline: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Games against the AI: the task that plays the AI holds it until `ai_lease_until` and
    # renews it; when an API instance stops, another one takes over (battles/ai_player.py).
    ai_driver: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ai_lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    # A rated game's rating change: "pending" from its end until fair play assessed it,
    # then "rated", or "held" (a high flag: an operator decides). None: unrated or running.
    rating_state: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)


class MatchPlayer(Base):
    """Who plays in a match (also in its state machine's JSON): the index that finds a
    player's games and current game without reading every match."""

    __tablename__ = "match_players"

    match_id: Mapped[int] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MatchEvent(Base):
    """One entry of a match's event log: the stream clients resume from, and the replay."""

    __tablename__ = "match_events"
    __table_args__ = (UniqueConstraint("match_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[float] = mapped_column(Float)  # server time (seconds since the epoch)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CodeSnapshot(Base):
    """A player's code at a moment of the game (taken every few seconds while typing; capped
    per player and match: battles/replay.py)."""

    __tablename__ = "code_snapshots"
    __table_args__ = (Index("ix_code_snapshots_match", "match_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)  # the code's bytes (for the caps)


class ChatMessage(Base):
    """One chat line. `channel` is "players" or "spectators": the two never mix."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_match", "match_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(12))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    at: Mapped[float] = mapped_column(Float)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class QueueTicket(Base):
    """A player waiting in the ranked queue; one per user (a player is in one queue at a
    time). `match_id` is set when the player was paired."""

    __tablename__ = "queue_tickets"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[float] = mapped_column(Float)
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), nullable=True
    )
