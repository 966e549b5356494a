from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow
from codebattle.judge.jobs import PRACTICE

# A submission waits for a worker (queued), is compiled (compiling), runs its tests
# (running), then is done. "compiling" and "running" are both in progress (IN_PROGRESS).
QUEUED, COMPILING, RUNNING, DONE = "queued", "compiling", "running", "done"
IN_PROGRESS = (COMPILING, RUNNING)
# What a submission asks for: the whole test set, the samples only, or one custom input.
SUBMIT, SAMPLES, CUSTOM = "submit", "samples", "custom"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_user_problem", "user_id", "problem_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    problem_version_id: Mapped[int] = mapped_column(ForeignKey("problem_versions.id"))
    kind: Mapped[str] = mapped_column(String(8), default=SUBMIT)
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), nullable=True, index=True
    )  # a submission made in a match counts for it
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), nullable=True, index=True
    )  # likewise in a room
    # Its judge job's level (judge/jobs.py MATCH..PRACTICE), from where it was made: a run
    # is stored without the match or room it was made in, yet a duel's run is a race's.
    # Stored, so that the outbox's resend gives the level the first send gave (0021).
    priority: Mapped[int] = mapped_column(
        SmallInteger, default=PRACTICE, server_default=str(PRACTICE)
    )
    language: Mapped[str] = mapped_column(String(16))
    code_key: Mapped[str] = mapped_column(String(128))  # blob storage key
    code_size: Mapped[int] = mapped_column(Integer)
    custom_input: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)  # widened by 0021
    verdict: Mapped[str | None] = mapped_column(String(4), nullable=True)
    compile_output: Mapped[str] = mapped_column(Text, default="")
    run_output: Mapped[str] = mapped_column(Text, default="")  # stdout of a custom run
    message: Mapped[str] = mapped_column(Text, default="")
    tests_total: Mapped[int] = mapped_column(Integer, default=0)
    tests_passed: Mapped[int] = mapped_column(Integer, default=0)
    max_time: Mapped[float] = mapped_column(Float, default=0.0)
    max_memory: Mapped[int] = mapped_column(BigInteger, default=0)
    judge_time: Mapped[float] = mapped_column(Float, default=0.0)  # the worker's own seconds
    # Indexed: fair play's pass looks at the last two days' accepted game submissions.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the match or room it counts for took its verdict (in the game's transaction):
    # a verdict recorded but not yet reported is passed on again (runtime.report_verdicts).
    # A practice submission's is its finished_at (no game waits for it).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class SubmissionTest(Base):
    """One test's result. (submission, index) is unique: a redelivered job's repeat of a
    test overwrites rather than duplicates it."""

    __tablename__ = "submission_tests"
    __table_args__ = (UniqueConstraint("submission_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    verdict: Mapped[str] = mapped_column(String(4))
    time: Mapped[float] = mapped_column(Float, default=0.0)
    wall_time: Mapped[float] = mapped_column(Float, default=0.0)
    memory: Mapped[int] = mapped_column(BigInteger, default=0)
    sample: Mapped[bool] = mapped_column(default=False)
    feedback: Mapped[str] = mapped_column(Text, default="")


class OutboxEntry(Base):
    """A judge job not yet handed to the queue for good (submissions/outbox.py): written in
    the transaction that saves its submission, deleted in the one that records its verdict.
    `due_at` says when a relay should send it (again); NULL once the queue took it."""

    __tablename__ = "judge_outbox"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
