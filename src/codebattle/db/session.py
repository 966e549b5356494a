"""One async engine per process and the session factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (below): IMMEDIATE, except in read-only sessions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: safe against crashes of the app
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


CONNECT_SECONDS = 5.0
POOL_WAIT_SECONDS = 10.0
READ_ONLY = "codebattle_read_only"  # execution option of `Database.reading()` sessions
# An error's message never shows a statement's parameters: they hold submitted code and
# e-mail addresses, and the message reaches the logs and Sentry.
HIDE_PARAMETERS = True


def _sqlite_begin(connection: Any) -> None:
    """`BEGIN IMMEDIATE` takes SQLite's write lock at once. A deferred transaction that
    reads and then writes fails at once with "database is locked" when another connection
    wrote in between (SQLite cannot upgrade a stale read snapshot); taking the lock first
    makes it wait its turn (busy_timeout) instead. Transactions that read, decide and write
    (a match's transition) thus run one at a time, as with a row lock on PostgreSQL. SQLite
    has one writer anyway; transactions here are short. Read-only sessions
    (`Database.reading`) begin deferred: they never wait for the write lock nor hold it."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split(":///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: AsyncEngine = create_async_engine(url, hide_parameters=HIDE_PARAMETERS)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        else:
            # A server that hangs rather than refuses is given up on after CONNECT_SECONDS
            # (an outage: 503), and a request waits at most POOL_WAIT_SECONDS for a pooled
            # connection, rather than holding the client for a minute.
            self.engine = create_async_engine(
                url,
                pool_size=10,
                max_overflow=10,
                pool_pre_ping=True,
                pool_timeout=POOL_WAIT_SECONDS,
                connect_args={"timeout": CONNECT_SECONDS},
                hide_parameters=HIDE_PARAMETERS,
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads (on SQLite a transaction that reads and then writes may fail:
        write in `session()`)."""
        async with self.readers() as session:
            yield session

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
