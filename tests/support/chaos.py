"""What the fault-injection tests (tests/chaos) share: reading the database behind the
processes they run, as an operator with psql would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one statement on the database at `url` (SQLite or PostgreSQL), through an
    engine of its own: the processes under test hold theirs."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()
