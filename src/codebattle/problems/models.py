"""Problems as stored: a problem and its immutable versions (one per imported package)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from codebattle.db.base import Base, UTCDateTime, utcnow


class Problem(Base):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    difficulty: Mapped[str] = mapped_column(String(16), default="medium")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    search_text: Mapped[str] = mapped_column(Text, default="")  # lower-cased names, slug, tags
    # No foreign key: the two tables would reference each other. Set on import.
    current_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    current_version: Mapped[ProblemVersion | None] = relationship(
        primaryjoin="foreign(Problem.current_version_id) == ProblemVersion.id", lazy="joined"
    )


class ProblemVersion(Base):
    """One imported package. Never changed once written: submissions point at it."""

    __tablename__ = "problem_versions"
    __table_args__ = (UniqueConstraint("problem_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    package_key: Mapped[str] = mapped_column(String(128))  # blob storage key of the archive
    names: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> name
    statements: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> Markdown
    samples: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{name, input, answer}]
    templates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # language -> code
    # problem.yaml `languages` (2025-09): the language ids accepted; None: every language.
    languages: Mapped[list[str] | None] = mapped_column(JSON, nullable=True, default=None)
    # Accepted reference solutions, one per language (the offline AI opponent plays them).
    solutions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    time_limit: Mapped[float] = mapped_column(Float)
    memory_limit: Mapped[int] = mapped_column(Integer)  # MiB
    test_count: Mapped[int] = mapped_column(Integer)
    interactive: Mapped[bool] = mapped_column(Boolean, default=False)
    # Statement images and PDFs, file name -> blob key (problems/statements.py); None for
    # versions imported before statements had assets.
    assets: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
