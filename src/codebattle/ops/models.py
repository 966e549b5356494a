"""What the operators' side stores: appeals and their reply threads, alerts and their
deliveries to each webhook, the leases that make a periodic job run once per cluster, and
each API instance's heartbeat (the fleet page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow

# What an appeal is about: an operator's decision (a flag), a game's result, a verdict.
DECISION, GAME, VERDICT = "decision", "game", "verdict"
APPEAL_KINDS = (DECISION, GAME, VERDICT)
# An appeal's life: filed (open), answered by an operator at least once, decided.
OPEN, ANSWERED, DECIDED = "open", "answered", "decided"
# A decided appeal's outcome: granted (the decision overturned, the game voided, ...) or
# denied (things stay as they are).
GRANTED, DENIED = "granted", "denied"


class Appeal(Base):
    """A player's appeal with its two deadlines, worked out when it is filed (ops/sla.py):
    the first answer and the decision. Also written to the log seam's `appeals` index."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_status_due", "status", "first_response_due"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # APPEAL_KINDS
    flag_id: Mapped[int | None] = mapped_column(
        ForeignKey("fairplay_flags.id", ondelete="SET NULL"), nullable=True
    )
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), nullable=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # GRANTED | DENIED
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    decision_due: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class AppealMessage(Base):
    """One message of an appeal's thread: the player's or an operator's (`staff`). The
    player reads the whole thread on their appeals page; an operator's name is not shown."""

    __tablename__ = "appeal_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    staff: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """Something operators must hear about (a high flag, an IE verdict, a dead worker, an
    appeal's deadline near or lapsed), once: `key` names the event ("flag:12:high",
    "appeal:3:first_response:warn", ...), so raising it again adds nothing."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(200), default="")  # a dashboard path
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# A delivery's life: due (waiting or retrying), sent, or failed for good (ALERT_TRIES).
DUE, SENT, FAILED = "due", "sent", "failed"


class AlertDelivery(Base):
    """One alert to one webhook ("slack" | "discord"): tried with backoff until sent or
    failed. Claimed by one instance at a time (`claimed_until`), so two instances never
    send it twice; `summary_id` names the summary message that carried it, if any."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_alert_deliveries_due", "status", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=DUE)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[bool] = mapped_column(Boolean, default=False)  # sent inside a summary


class ClusterLease(Base):
    """A periodic job that must run on one instance of the cluster at a time (the alert
    watch): whoever holds the unexpired lease runs it. Survives restarts: a dead holder's
    lease simply runs out."""

    __tablename__ = "cluster_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class InstanceBeat(Base):
    """An API instance's heartbeat: what it serves right now (the fleet page). An instance
    not seen for a while is shown as gone; rows older than a day are removed."""

    __tablename__ = "instance_beats"

    instance: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    live_games: Mapped[int] = mapped_column(Integer, default=0)
    sockets: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # queue, workers, ...
