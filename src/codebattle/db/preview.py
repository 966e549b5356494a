"""A preview's read-only database (decision 0030): one guard on the engine refuses every
statement that could write a table outside WRITABLE, before it reaches the database.

It reads the SQL text SQLAlchemy is about to send (ORM flushes, Core, `text()` and
driver-level statements all pass here), so no service needs to know it runs in a preview.
The reading is an allow-list: comments and literals are set aside, then a statement runs
only if it is a query (SELECT, WITH, VALUES, TABLE; no `SELECT … INTO`), SHOW, EXPLAIN of
such a statement, transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, END,
START), SET LOCAL / SET TRANSACTION, a PRAGMA that only reads, or an INSERT, UPDATE, DELETE
or upsert whose every target is in WRITABLE. Anything else (CALL, DO, EXECUTE, LOCK,
REFRESH, COPY, DDL, …) is refused. A function a query calls is out of the text's reach:
the database role of docs/operations.md "Preview mode" is the second line.

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

SCHEMA = "(schema)"  # what a refused statement that names no written table is called

_QUERIES = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE"})
_TRANSACTION = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END", "START"})
_EXPLAIN_OPTIONS = frozenset({"ANALYZE", "ANALYSE", "VERBOSE", "QUERY", "PLAN"})

# One lexeme: a comment, a literal, a quoted name, a word, or one other character. Literals
# and comments are kept as tokens only to be dropped; a `/*` inside a block comment is
# read differently by PostgreSQL (nested) and SQLite (not), so such a comment is refused.
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<line>--[^\n]*)
      | (?P<block>/\*(?:[^*]|\*(?!/))*?\*/)
      | (?P<open>/\*)
      | (?P<estring>[eE]'(?:[^'\\]|\\.|'')*')
      | (?P<string>'(?:[^']|'')*')
      | (?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)\$)
      | (?P<param>\$\d+|\?|%\(\w+\)s|%s|:\w+)
      | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


class PreviewReadOnly(UserError):
    """A write the preview does not keep."""

    def __init__(self, table: str) -> None:
        super().__init__(403, "preview_read_only")
        self.table = table


class _Unreadable(ValueError):
    """SQL the guard will not guess about (refused)."""


def _tokens(sql: str) -> list[str]:
    """The statement's words (upper case), quoted names (as written) and punctuation;
    comments, literals and parameters dropped."""
    found: list[str] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "open" or (kind == "block" and "/*" in match.group()[2:-2]):
            raise _Unreadable("a comment that is not closed, or one inside another")
        if kind == "word":
            found.append(match.group().upper())
        elif kind in ("quoted", "other"):
            found.append(match.group())
        elif kind in ("estring", "string", "dollar", "param"):
            found.append("?")  # a value: never a keyword
    return found


def _name(lexeme: str) -> str:
    if lexeme[:1] in ('"', "`"):
        return lexeme[1:-1].replace('""', '"').lower()
    return lexeme.lower()


def _table_at(tokens: list[str], at: int) -> str:
    """The table named at `tokens[at]` (`schema.table`, `ONLY t`, quoted), lower case."""
    if at < len(tokens) and tokens[at] == "ONLY":
        at += 1
    if at >= len(tokens) or not _is_name(tokens[at]):
        raise _Unreadable("a write without a table")
    name = tokens[at]
    while at + 2 < len(tokens) and tokens[at + 1] == "." and _is_name(tokens[at + 2]):
        at += 2
        name = tokens[at]
    return _name(name)


def _is_name(lexeme: str) -> bool:
    return lexeme[:1] in ('"', "`") or lexeme[:1].isalpha() or lexeme[:1] == "_"


def _statements(tokens: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for lexeme in tokens:
        if lexeme == ";":
            parts.append([])
        else:
            parts[-1].append(lexeme)
    return [part for part in parts if part]


def _writes_in(tokens: list[str]) -> set[str]:
    """The tables the writes inside a query or a DML statement name; `SELECT … INTO` and
    a data-modifying CTE included. Row locks (FOR [NO KEY] UPDATE) and an upsert's own
    DO UPDATE write nothing else."""
    written: set[str] = set()
    for at, lexeme in enumerate(tokens):
        before = tokens[at - 1] if at else ""
        following = tokens[at + 1] if at + 1 < len(tokens) else ""
        if lexeme == "INTO":
            if before in ("INSERT", "MERGE", "REPLACE") or (
                at >= 3 and tokens[at - 3] == "INSERT" and tokens[at - 2] == "OR"
            ):
                written.add(_table_at(tokens, at + 1))
            else:  # SELECT … INTO makes a new table: a schema change, whatever its name
                written.add(SCHEMA)
        elif lexeme == "UPDATE" and before not in ("FOR", "KEY", "DO", "ON", "THEN"):
            skip = 2 if following == "OR" else 0  # SQLite's UPDATE OR REPLACE t
            written.add(_table_at(tokens, at + 1 + skip))
        elif lexeme == "DELETE" and following == "FROM":
            written.add(_table_at(tokens, at + 2))
        elif lexeme == "TRUNCATE":
            written.add(SCHEMA)
    return written


def _explained(tokens: list[str]) -> list[str]:
    """The statement an EXPLAIN names, after its options (`(ANALYZE, FORMAT JSON)` too)."""
    at = 1
    if at < len(tokens) and tokens[at] == "(":
        depth = 0
        for at in range(1, len(tokens)):  # noqa: B007 (the index is kept)
            depth += {"(": 1, ")": -1}.get(tokens[at], 0)
            if depth == 0:
                break
        at += 1
    while at < len(tokens) and tokens[at] in _EXPLAIN_OPTIONS:
        at += 1
    return tokens[at:]


def _statement_writes(tokens: list[str]) -> set[str]:
    """The tables one statement could write; SCHEMA for a statement of no allowed kind."""
    while tokens and tokens[0] == "(":
        tokens = tokens[1:]  # a parenthesised query: (SELECT …) UNION (SELECT …)
    if not tokens:
        return set()
    first = tokens[0]
    if first in _QUERIES or first in _WRITES:
        return _writes_in(tokens)
    if first in _TRANSACTION:
        return set() if first != "START" or tokens[1:2] == ["TRANSACTION"] else {SCHEMA}
    if first == "SHOW":
        return set()
    if first == "EXPLAIN":
        return _statement_writes(_explained(tokens)) if len(tokens) > 1 else set()
    if first == "SET" and tokens[1:2] in (["LOCAL"], ["TRANSACTION"]):
        return set()
    if first == "PRAGMA" and "=" not in tokens:  # SQLite: reading a setting
        return set()
    return {SCHEMA}


def written_tables(sql: str) -> set[str]:
    """The tables `sql` could write (names without schema or quotes, lower case); a
    statement of a kind the preview never runs, or one the guard cannot read, is SCHEMA."""
    try:
        statements = _statements(_tokens(sql))
        return set().union(*(_statement_writes(tokens) for tokens in statements))
    except _Unreadable:
        return {SCHEMA}


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
