"""Rooms as stored: the room row (its state machine's state in columns), its members with
their scores, and its event log (the same shape as a match's: battles/eventlog.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow


class Room(Base):
    """A room: many players, one or more problems, a live leaderboard. Its events (joins,
    start, attempts, solves, announcements, end) are a log like a match's."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # the invite code
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(80))
    problems: Mapped[list[int]] = mapped_column(JSON)  # problem version ids, in order
    duration: Mapped[float] = mapped_column(Float)
    size_limit: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(8), default="open", index=True)  # fsm.State
    starts_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ends_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    members: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoomMember(Base):
    __tablename__ = "room_members"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[float] = mapped_column(Float)
    solved: Mapped[int] = mapped_column(Integer, default=0)
    penalty: Mapped[float] = mapped_column(Float, default=0.0)  # seconds, ICPC style
    board: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # version id -> status
    # An operator voided this member's game (fair play): off the leaderboard, kept on record.
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False)


class RoomEvent(Base):
    """One entry of a room's event log (battles/eventlog.py)."""

    __tablename__ = "room_events"
    __table_args__ = (UniqueConstraint("room_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
