"""`outage.is_unavailable` on the errors a real outage raises: a private PostgreSQL stopped
(nothing listening; crashed or shut down under a pooled connection, mid-transaction),
SQLite locked by another writer, Redis unreachable; and not on a plain bug. The pool
recovers by itself once PostgreSQL is back. Warnings are one per outage, not one per error."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import socket
import sqlite3
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine
from structlog.testing import capture_logs

from codebattle.db import outage
from codebattle.db.session import Database
from codebattle.errors import ServiceError
from codebattle.integrations.s3 import S3Error
from tests.support.pg_server import PgServer, StopMode, private_db, private_pg  # noqa: F401
from tests.support.servers import free_port


async def _failure(db: Database, sql: str = "SELECT 1") -> BaseException:
    with pytest.raises(Exception) as raised:
        async with db.reading() as session:
            await session.execute(text(sql))
    return raised.value


async def _select(db: Database) -> int:
    async with db.reading() as session:
        return int((await session.execute(text("SELECT 1"))).scalar_one())


async def test_nothing_listening_is_an_outage(
    private_pg: PgServer,  # noqa: F811
    private_db: Database,  # noqa: F811
) -> None:
    assert await _select(private_db) == 1  # a pooled connection, checked on the next use
    await asyncio.to_thread(private_pg.stop, "immediate")
    for _ in range(2):  # the pooled connection, then a fresh connect
        assert outage.is_unavailable(await _failure(private_db))
    await asyncio.to_thread(private_pg.start)
    assert await _select(private_db) == 1  # recovered, with no error on the first try


@pytest.mark.parametrize("mode", ["immediate", "fast"])
async def test_a_server_gone_mid_transaction_is_an_outage(
    private_pg: PgServer,  # noqa: F811
    private_db: Database,  # noqa: F811
    mode: StopMode,
) -> None:
    with pytest.raises(Exception) as raised:
        async with private_db.session() as session:
            await session.execute(text("SELECT 1"))
            await asyncio.to_thread(private_pg.stop, mode)  # a crash, or a shutdown
            await session.execute(text("SELECT 2"))
    assert outage.is_unavailable(raised.value)
    await asyncio.to_thread(private_pg.start)
    assert await _select(private_db) == 1


async def test_a_query_cut_off_by_a_crash_is_an_outage(
    private_pg: PgServer,  # noqa: F811
    private_db: Database,  # noqa: F811
) -> None:
    async def slow() -> None:
        async with private_db.reading() as session:
            await session.execute(text("SELECT pg_sleep(5)"))

    running = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    await asyncio.to_thread(private_pg.stop, "immediate")
    async with asyncio.timeout(10):
        with pytest.raises(Exception) as raised:
            await running
    assert outage.is_unavailable(raised.value)


async def test_bugs_are_not_outages(private_db: Database) -> None:  # noqa: F811
    assert not outage.is_unavailable(await _failure(private_db, "SELECT * FROM no_such_table"))
    assert not outage.is_unavailable(await _failure(private_db, "SELECT 1/0"))
    assert not outage.is_unavailable(ValueError("a bug"))
    assert not outage.is_unavailable(IntegrityError("INSERT", {}, Exception("duplicate key")))


async def test_a_locked_sqlite_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("CREATE TABLE t (x INTEGER)")
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        # The app's own busy timeout is 10 s; the same error comes after 50 ms.
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.05})
        try:
            with pytest.raises(Exception) as raised:
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
            assert "database is locked" in str(raised.value)
            assert outage.is_unavailable(raised.value)
            with pytest.raises(Exception) as missing:
                async with engine.begin() as conn:
                    await conn.execute(text("SELECT * FROM no_such_table"))
            assert not outage.is_unavailable(missing.value)
        finally:
            await engine.dispose()


async def test_redis_unreachable_is_an_outage() -> None:
    client = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        with pytest.raises(Exception) as raised:
            await client.ping()
    finally:
        await client.aclose()
    assert outage.is_unavailable(raised.value)
    assert outage.service_of(raised.value) == "redis"


async def test_a_refused_connect_counts_when_it_comes_from_the_driver(
    private_db: Database,  # noqa: F811
    private_pg: PgServer,  # noqa: F811
) -> None:
    await asyncio.to_thread(private_pg.stop, "immediate")
    refused = await _failure(private_db)
    assert isinstance(refused, ConnectionRefusedError)  # bare: asyncpg does not wrap it
    assert outage.is_unavailable(refused)
    assert outage.service_of(refused) == "database"
    # The same error from anything else (an SMTP server down) is not the database's outage.
    smtp_down = ConnectionRefusedError(111, "Connect call failed")
    assert not outage.is_unavailable(smtp_down)
    assert outage.service_of(smtp_down) == "other"
    with pytest.raises(OSError) as raised:
        socket.create_connection(("127.0.0.1", free_port()), timeout=1)
    assert not outage.is_unavailable(raised.value)


def test_a_bug_raised_while_handling_an_outage_is_a_bug() -> None:
    try:
        try:
            raise aioredis.ConnectionError("Redis is away")
        except aioredis.ConnectionError:
            raise KeyError("a bug in the handler")  # noqa: B904  # its context: the outage
    except KeyError as exc:
        bug = exc
    assert isinstance(bug.__context__, aioredis.ConnectionError)
    assert not outage.is_unavailable(bug)
    assert outage.service_of(bug) == "other"
    # Raised on purpose from the outage (`raise ... from`), it is the outage.
    wrapped = RuntimeError("could not reach Redis")
    wrapped.__cause__ = aioredis.ConnectionError("Redis is away")
    assert outage.is_unavailable(wrapped)
    assert outage.service_of(wrapped) == "redis"


def test_an_exception_group_is_an_outage_only_if_every_part_is() -> None:
    down = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    assert outage.is_unavailable(ExceptionGroup("both", [down, aioredis.TimeoutError()]))
    assert not outage.is_unavailable(ExceptionGroup("mixed", [down, ValueError("a bug")]))


def test_one_warning_per_outage_not_one_per_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outage, "_warned", {})
    error = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    with capture_logs() as logs:
        for _ in range(5):
            outage.report(error, "/problems")
    assert [e["event"] for e in logs] == ["a backing service is unavailable"]
    assert logs[0]["log_level"] == "warning" and logs[0]["service"] == "database"
    monkeypatch.setattr(outage, "WARN_EVERY_SECONDS", 0.0)  # the outage's next period
    with capture_logs() as logs:
        outage.report(error, "/problems")
    assert logs[0]["not_logged_since_last"] == 4


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        # Met while the server starts up, shuts down, or has no connection left to give.
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
        (asyncpg.exceptions.TooManyConnectionsError("too many clients already"), True),
        (
            asyncpg.exceptions.InterfaceError(
                "cannot call Connection.fetch(): connection is closed"
            ),
            True,
        ),
        (PoolTimeout("QueuePool limit of size 10 overflow 10 reached"), True),
        # Our own statement timeout, a serialization failure, misuse: not an outage.
        (
            asyncpg.exceptions.QueryCanceledError("canceling statement: statement timeout"),
            False,
        ),
        (asyncpg.exceptions.SerializationError("could not serialize access"), False),
        (asyncpg.exceptions.InterfaceError("the server expects 2 arguments"), False),
        (TimeoutError(), False),
    ],
)
def test_which_errors_mean_try_again(error: BaseException, unavailable: bool) -> None:
    assert outage.is_unavailable(error) is unavailable


def test_a_failure_nobody_above_sees_is_reported_or_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outage, "_warned", {})
    with capture_logs() as logs:
        outage.log_failure(aioredis.ConnectionError("Redis is away"), "socket")
        outage.log_failure(ValueError("a bug"), "socket")
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("a backing service is unavailable", "warning"),
        ("an unexpected error", "error"),
    ]
    assert logs[0]["service"] == "redis" and logs[1]["exc_info"]


async def test_a_deadlock_is_a_conflict_to_retry_not_an_outage(
    private_db: Database,  # noqa: F811
) -> None:
    """Two transactions that lock two rows in opposite orders: PostgreSQL aborts one
    (40P01); `is_conflict` says the work may be tried again, `is_unavailable` does not."""
    async with private_db.session() as setup:
        await setup.execute(text("CREATE TABLE pair (id int PRIMARY KEY)"))
        await setup.execute(text("INSERT INTO pair VALUES (1), (2)"))
        await setup.commit()
    both_locked = asyncio.Barrier(2)

    async def lock(first: int, second: int) -> None:
        async with private_db.session() as session:
            await session.execute(text(f"SELECT id FROM pair WHERE id = {first} FOR UPDATE"))
            await both_locked.wait()
            await session.execute(text(f"SELECT id FROM pair WHERE id = {second} FOR UPDATE"))
            await session.commit()

    results = await asyncio.gather(lock(1, 2), lock(2, 1), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1
    assert outage.is_conflict(failures[0]) and not outage.is_unavailable(failures[0])
    assert not outage.is_conflict(ValueError("a bug"))


class _MailError(ServiceError):
    service = "mail"


def test_an_outside_service_s_error_says_itself_whether_it_is_an_outage() -> None:
    """outage.py knows outside services only through errors.ServiceError: any client's
    transient error is an outage named after its service, the rest a bug."""
    assert not any(name.startswith("codebattle.integrations") for name in _imported(outage))
    assert outage.is_unavailable(_MailError("relay busy", transient=True))
    assert not outage.is_unavailable(_MailError("bad recipient", transient=False))
    assert outage.service_of(_MailError("relay busy", transient=True)) == "mail"
    assert outage.is_unavailable(S3Error("GET b/k: SlowDown", transient=True))
    assert outage.service_of(S3Error("GET b/k: SlowDown", transient=True)) == "blobs"


def _imported(module: object) -> set[str]:
    """The modules `module`'s source imports by name (from ... import / import ...)."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    return {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
        if not isinstance(node, ast.ImportFrom) or node.module
    }
