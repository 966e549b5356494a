"""A preview's read-only database (decision 0030): one guard on the engine refuses every
statement that would write a table outside WRITABLE, before it reaches the database.

It reads the SQL text SQLAlchemy is about to send (ORM flushes, Core, `text()` and
driver-level statements all pass here), so no service needs to know it runs in a preview.
The refusal is a UserError: a page, the API and a socket answer it with the preview's
message, and the transaction it happened in is rolled back whole."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from codebattle.errors import UserError

# Signing in and out (the session row) and the practice judge flow: the submission, its
# tests' results, its job's outbox entry and the submission log's records.
WRITABLE = frozenset({"sessions", "submissions", "submission_tests", "judge_outbox", "log_records"})

# Row-locking reads and an upsert's own update are not writes of another table.
_NOT_WRITES = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bDO\s+UPDATE\b", re.IGNORECASE)
_WRITES = re.compile(
    r"""\b(?:(?:INSERT|REPLACE)(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM
         |MERGE\s+INTO|TRUNCATE(?:\s+TABLE)?)
        \s+(?:ONLY\s+)?((?:"[^"]+"|\w+)(?:\s*\.\s*(?:"[^"]+"|\w+))?)""",
    re.IGNORECASE | re.VERBOSE,
)
_SCHEMA = re.compile(
    r"^\s*(?:CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COMMENT|VACUUM|REINDEX|CLUSTER|COPY)\b",
    re.IGNORECASE,
)


class PreviewReadOnly(UserError):
    """A write the preview does not keep."""

    def __init__(self, table: str) -> None:
        super().__init__(403, "preview_read_only")
        self.table = table


def written_tables(sql: str) -> set[str]:
    """The tables a statement writes (names without schema or quotes, lower case); a
    schema change is "(schema)"."""
    if _SCHEMA.match(sql):
        return {"(schema)"}
    cleaned = _NOT_WRITES.sub(" ", sql)
    return {m.group(1).split(".")[-1].strip().strip('"').lower() for m in _WRITES.finditer(cleaned)}


def refused_table(sql: str) -> str | None:
    """The first table `sql` writes outside WRITABLE, or None if the preview may run it."""
    refused = sorted(written_tables(sql) - WRITABLE)
    return refused[0] if refused else None


def _check(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    table = refused_table(statement)
    if table is not None:
        raise PreviewReadOnly(table)


def guard(engine: AsyncEngine) -> None:
    """Make `engine` refuse writes outside WRITABLE (once per engine)."""
    sync = engine.sync_engine
    if not event.contains(sync, "before_cursor_execute", _check):
        event.listen(sync, "before_cursor_execute", _check)
