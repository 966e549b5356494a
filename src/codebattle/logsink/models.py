"""The embedded log sink's table: one row per record of an index (submission-log,
paste-events, appeals), written in bulk; `doc_id` makes a record written twice one row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow


class LogRecord(Base):
    __tablename__ = "log_records"
    __table_args__ = (UniqueConstraint("index", "doc_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    index: Mapped[str] = mapped_column(String(32))
    doc_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
