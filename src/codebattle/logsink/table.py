"""The default sink: the `log_records` table of the app's own database, so a deployment
without OpenSearch still keeps its submission log, paste events and appeals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite

from codebattle.db.base import utcnow
from codebattle.db.session import Database
from codebattle.logsink.models import LogRecord
from codebattle.logsink.sink import Filters, Outcome, Record, Sort


def _field(name: str, value: Any) -> ColumnElement[Any]:
    """The body's field, read as the value's type: JSON values compare by type on
    PostgreSQL, and SQLite's `json_extract` needs the same casts to compare alike."""
    element = LogRecord.body[name]
    typed: ColumnElement[Any]
    if isinstance(value, bool):
        typed = element.as_boolean()
    elif isinstance(value, int):
        typed = element.as_integer()
    elif isinstance(value, float):
        typed = element.as_float()
    else:
        typed = element.as_string()
    return typed


def _conditions(index: str, filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [LogRecord.index == index]
    for name, value in filters.items():
        if isinstance(value, list | tuple | set | frozenset):
            values = list(value)
            if not values:
                conditions.append(LogRecord.id.is_(None))  # any of nothing: no match
                continue
            conditions.append(_field(name, values[0]).in_(values))
        else:
            conditions.append(_field(name, value) == value)
    return conditions


class TableSink:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(self) -> None:
        return None

    async def write_batch(self, records: list[Record]) -> Outcome:
        """One INSERT ... ON CONFLICT (index, doc_id) DO NOTHING for the whole batch: a
        record written again (a retried batch that had in fact landed) stays one row."""
        if not records:
            return Outcome()
        now = utcnow()
        rows = [
            {"index": r.index, "doc_id": r.doc_id, "body": r.body, "created_at": now}
            for r in records
        ]
        async with self.db.session() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = insert(LogRecord).on_conflict_do_nothing(index_elements=["index", "doc_id"])
            await session.execute(statement, rows)
            await session.commit()
        return Outcome()

    async def search(
        self, index: str, filters: Filters, limit: int = 50, sort: Sort = "-at"
    ) -> list[dict[str, Any]]:
        at = LogRecord.body["at"].as_string()
        order = (at.desc(), LogRecord.id.desc()) if sort == "-at" else (at, LogRecord.id)
        query = select(LogRecord.body).where(*_conditions(index, filters)).order_by(*order)
        async with self.db.reading() as session:
            rows = await session.scalars(query.limit(limit))
            return [dict(body) for body in rows]

    async def count(self, index: str, filters: Filters) -> int:
        query = select(func.count()).select_from(LogRecord).where(*_conditions(index, filters))
        async with self.db.reading() as session:
            return int(await session.scalar(query) or 0)

    async def refresh(self, index: str) -> None:
        return None  # committed rows are read at once

    async def close(self) -> None:
        return None
