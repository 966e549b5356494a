"""Fair play as stored: each examined submission's fingerprint (parsed once, compared many
times) and the similarities found worth a reviewer's look."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
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
    # {"submission": [[start, end], ...], "other": [...]}: matching lines, for side by side.
    fragments: Mapped[dict[str, list[list[int]]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
