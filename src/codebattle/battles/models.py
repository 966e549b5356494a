"""Matches as stored: the match row (its state machine's state as JSON) and its event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
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
