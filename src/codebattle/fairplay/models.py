"""Fair play as stored: each examined submission's fingerprint (parsed once, compared many
times) and the similarities found worth a reviewer's look."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow

SUBMISSION, REFERENCE = "submission", "reference"  # what a submission was compared with


class SubmissionFingerprint(Base):
    """An accepted game submission's fingerprint (`Fingerprint.to_dict`), templates and
    boilerplate subtracted: later submissions to the problem are compared with it."""

    __tablename__ = "submission_fingerprints"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )  # the recent ones of a problem are compared with each new one
    language: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SimilarityMatch(Base):
    """A submission much like another one (`other_submission_id`) or like a reference
    solution of its problem version (`other_language`'s). The same comparison is stored
    once: examining a submission again adds nothing."""

    __tablename__ = "similarity_matches"
    __table_args__ = (
        UniqueConstraint("submission_id", "other_kind", "other_submission_id", "other_language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    other_kind: Mapped[str] = mapped_column(String(16))  # SUBMISSION or REFERENCE
    other_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), nullable=True
    )
    other_language: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)  # Dice: 2|A∩B| / (|A| + |B|)
    a_in_b: Mapped[float] = mapped_column(Float)  # share of this submission found in the other
    b_in_a: Mapped[float] = mapped_column(Float)
    shared: Mapped[int] = mapped_column(Integer, default=0)  # distinct hashes in common
    # {"submission": [[start, end], ...], "other": [...]}: matching lines, for side by side.
    fragments: Mapped[dict[str, list[list[int]]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EditorTelemetry(Base):
    """One batch of a player's editor telemetry in a game (match or room) or in practice
    (problem only): pastes, typing bursts, focus changes, example runs (docs/protocol.md,
    "telemetry"). Never shown to opponents or spectators."""

    __tablename__ = "editor_telemetry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), nullable=True, index=True
    )
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True, index=True
    )
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), nullable=True
    )
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    event_count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RiskAssessment(Base):
    """The explainable risk score of one submission ("submission:<id>") or of one player in
    one game ("match:<id>:<user>", "room:<id>:<user>"): each signal's contribution with its
    evidence (fairplay/risk.py). Stored once per key."""

    __tablename__ = "risk_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))  # "submission" | "game"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), nullable=True, index=True
    )
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True, index=True
    )
    score: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(16))  # "none" | "review" | "high"
    signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlayerReport(Base):
    """A player's report of an opponent after a game: one per reporter and game."""

    __tablename__ = "player_reports"
    __table_args__ = (UniqueConstraint("reporter_id", "match_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reported_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# A flag's status: waiting for an operator, decided (`decision` says how), or decided and
# then overturned (an appeal granted: everything the decision did is undone).
OPEN, DECIDED, OVERTURNED = "open", "decided", "overturned"
# Decisions on a flag (ops/decisions.py; docs/operations.md, "Operator's guide").
DISMISS, WARN, VOID, SUSPEND, BAN = "dismiss", "warn", "void", "suspend", "ban"
DECISIONS = (DISMISS, WARN, VOID, SUSPEND, BAN)


class Flag(Base):
    """What an operator should look at: a risk assessment at "review" or "high", or a
    player's report. `key` makes each one once ("risk:<assessment key>", "report:<id>")."""

    __tablename__ = "fairplay_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # "risk" | "report"
    level: Mapped[str] = mapped_column(String(16))  # "review" | "high"
    score: Mapped[float] = mapped_column(Float)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), nullable=True
    )
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), nullable=True
    )
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE"), nullable=True
    )
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("player_reports.id", ondelete="CASCADE"), nullable=True
    )
    # Short reasons as a reviewer reads them first: [{"signal": ..., "summary": ...}].
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)  # DECISIONS
    decision_reason: Mapped[str] = mapped_column(Text, default="")  # shown to the player
    sanction_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # sanctions.id
    overturned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AITextResult(Base):
    """GPTZero's answer for one document, by the SHA-256 of its text: shared by every
    process, so the same prose is never sent twice."""

    __tablename__ = "ai_text_results"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
