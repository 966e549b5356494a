"""Which errors mean "a backing service is down or overloaded for a moment, try again": the
one place that knows. The app answers them with 503 and Retry-After (sockets close with 1013)
instead of a 500, and says so in one warning per outage rather than a traceback per request.

What reaches a request when PostgreSQL restarts (measured, tests/db/test_outage.py): a bare
ConnectionRefusedError while nothing listens (asyncpg's connect is not wrapped: it counts
because its traceback passes through asyncpg and SQLAlchemy, unlike an SMTP server's), and a
DBAPIError with `connection_invalidated` wrapping asyncpg's ConnectionDoesNotExistError (after
AdminShutdownError on a clean stop) when the server goes away under a pooled connection. While
it starts up, asyncpg raises CannotConnectNowError. SQLite under write contention gives up
with OperationalError "database is locked" after its busy timeout. Redis unreachable raises
redis's ConnectionError or TimeoutError. An outside service's ServiceError (errors.py; the blob
bucket's S3Error, integrations/s3.py: no connection, a 5xx, throttling) says whether it is
one. A bug raised while handling one of these is a bug: only a driver's error is looked
through to the error it was handling."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator

import asyncpg  # type: ignore[import-untyped]  # no stubs; only its exception types are used
import redis.exceptions
import structlog
from sqlalchemy import exc as sa

from codebattle.errors import ServiceError

log = structlog.get_logger(__name__)
RETRY_AFTER_SECONDS = 5  # the hint given to clients: about how long a restart takes
WARN_EVERY_SECONDS = 30.0  # one warning per service per this long, with a count of the rest

# asyncpg: the server is shutting down, starting up, crashed, full, or the link broke (SQLSTATE
# classes 08 and 57P01-57P03, 53300); not QueryCanceledError (57014), a timeout of ours.
_PG_DOWN = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
)
_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_SQLITE_BUSY = ("database is locked", "database is busy")
# The types whose instances may be an outage (the app registers its handler on these).
CANDIDATES: tuple[type[Exception], ...] = (
    sa.SQLAlchemyError,
    OSError,
    asyncpg.exceptions.PostgresError,
    asyncpg.exceptions.InterfaceError,
    redis.exceptions.RedisError,
    ServiceError,  # an outside service (the blob bucket): only its transient errors
)
_DATABASE_ERRORS = (
    sa.SQLAlchemyError,
    asyncpg.exceptions.PostgresError,
    asyncpg.exceptions.InterfaceError,
    sqlite3.Error,
)
# A driver's error may carry the one that says what happened as the error it was handling
# (`__context__`); anywhere else, that is only what was going on when a bug struck.
_WRAPPERS = (*_DATABASE_ERRORS, redis.exceptions.RedisError)
# A bare OSError (asyncpg's refused connect is not wrapped) counts only when it came through
# one of these: an SMTP server or a blob store being down is not the database's outage.
_DB_DRIVERS = ("asyncpg", "sqlalchemy", "aiosqlite")
_REDIS_DRIVERS = ("redis",)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: `orig`, `__cause__`, and `__context__` of a driver's
    error. Not an exception group's members (`is_unavailable` asks about each)."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [getattr(current, "orig", None), current.__cause__]
        if isinstance(current, _WRAPPERS):
            linked.append(current.__context__)
        todo.extend(link for link in linked if isinstance(link, BaseException))


def _came_through(exc: BaseException, drivers: tuple[str, ...]) -> bool:
    """Whether the error's traceback passes through one of these packages' code."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.split(".", 1)[0] in drivers:
            return True
        tb = tb.tb_next
    return False


def _down(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):  # every part must be an outage, or it is a bug
        return bool(exc.exceptions) and all(is_unavailable(part) for part in exc.exceptions)
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa.OperationalError) and isinstance(exc.orig, sqlite3.OperationalError):
            return any(text in str(exc.orig) for text in _SQLITE_BUSY)
        return False
    if isinstance(exc, sa.TimeoutError | sa.DisconnectionError):  # pool exhausted, link lost
        return True
    if isinstance(exc, _PG_DOWN + _REDIS_DOWN):
        return True
    if isinstance(exc, ServiceError):
        return exc.transient
    if isinstance(exc, asyncpg.exceptions.InterfaceError):
        return "connection is closed" in str(exc) or "connection was closed" in str(exc)
    if isinstance(exc, sqlite3.OperationalError):
        return any(text in str(exc) for text in _SQLITE_BUSY)
    if isinstance(exc, ConnectionError | socket.gaierror):
        return _came_through(exc, _DB_DRIVERS + _REDIS_DRIVERS)
    return False


def is_unavailable(exc: BaseException) -> bool:
    """Whether this error means a backing service (the database, Redis) is briefly
    unavailable: the request may succeed if tried again in a few seconds. A bug raised
    while handling such an error is a bug (its `__context__` is not followed)."""
    return any(_down(linked) for linked in _chain(exc))


_CONFLICTS = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def is_conflict(exc: BaseException) -> bool:
    """Whether PostgreSQL aborted this transaction for a deadlock or a serialization
    failure: nothing was applied, and the same work may simply be tried again."""
    return any(
        getattr(linked, "sqlstate", None) in _CONFLICTS
        or getattr(linked, "pgcode", None) in _CONFLICTS
        for linked in _chain(exc)
    )


def service_of(exc: BaseException) -> str:
    """Which service an error came from, for the log: "redis", "database", an outside
    service's name ("blobs": ServiceError.service) or "other"."""
    for linked in _chain(exc):
        if isinstance(linked, ServiceError):
            return linked.service
        if isinstance(linked, redis.exceptions.RedisError) or (
            isinstance(linked, OSError) and _came_through(linked, _REDIS_DRIVERS)
        ):
            return "redis"
        if isinstance(linked, _DATABASE_ERRORS) or (
            isinstance(linked, OSError) and _came_through(linked, _DB_DRIVERS)
        ):
            return "database"
    return "other"


_warned: dict[str, tuple[float, int]] = {}  # service → (last warning, errors not logged since)


def report(exc: BaseException, where: str) -> None:
    """Log an outage as a warning, without its traceback, at most once per service every
    WARN_EVERY_SECONDS (the errors in between are counted in the next warning). `where`
    says who met it: a request's path (answered 503), a background loop (tries again)."""
    service = service_of(exc)
    now = time.monotonic()
    last, unlogged = _warned.get(service, (float("-inf"), 0))
    if now - last < WARN_EVERY_SECONDS:
        _warned[service] = (last, unlogged + 1)
        return
    _warned[service] = (now, 0)
    log.warning(
        "a backing service is unavailable",
        service=service, where=where, error=f"{type(exc).__name__}: {exc}"[:300],
        not_logged_since_last=unlogged,
    )  # fmt: skip


def log_failure(exc: BaseException, where: str) -> None:
    """An error nobody above sees (a socket's second failure, a background task's): an
    outage is reported (`report`), anything else logged with its traceback."""
    if is_unavailable(exc):
        report(exc, where)
    else:
        log.error("an unexpected error", where=where, exc_info=exc)
