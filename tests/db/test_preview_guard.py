"""The preview guard's allow-list (db/preview.py): every statement that is not a read,
transaction control or a write to a WRITABLE table is refused, however it is dressed
(comments, case, quotes, literals), on a real SQLite and PostgreSQL database; and the
operators' commands on a preview's database carry the same guard."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from codebattle.cli import app
from codebattle.db import preview
from codebattle.db.session import Database
from tests.support.factories import make_user

SCHEMA = preview.SCHEMA

REFUSED = [
    # The reviewers' bypasses of the old text pattern.
    "CALL refresh_everything()",
    "SELECT * INTO newtable FROM users",
    "select id into temporary t from users",
    "WITH x AS (SELECT 1) SELECT * INTO copied FROM x",
    "REFRESH MATERIALIZED VIEW leaderboard",
    "EXECUTE p (1, 2)",
    "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
    "/* */ DROP TABLE users",
    "/* a note */\n-- another\n  DROP TABLE users",
    # Other kinds never allowed.
    "DO $$ BEGIN DELETE FROM users; END $$",
    "PREPARE p AS DELETE FROM users",
    "COPY users FROM '/tmp/x'",
    "CREATE TABLE t (a int)",
    "ALTER TABLE users ADD COLUMN x int",
    "GRANT ALL ON users TO public",
    "VACUUM",
    "ANALYZE users",
    "SET ROLE postgres",
    "SET search_path TO evil",
    "RESET ALL",
    "PRAGMA writable_schema = 1",
    "START something",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_statements_of_no_allowed_kind_are_refused(sql: str) -> None:
    assert preview.refused_table(sql) is not None


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ("SELECT 1; DROP TABLE sessions", SCHEMA),  # a second statement is read too
        ("SELECT 'x;'; DELETE FROM users", "users"),
        ("EXPLAIN ANALYZE DELETE FROM users", "users"),
        ("EXPLAIN (ANALYZE, FORMAT JSON) UPDATE users SET role = 'admin'", "users"),
        ('UPDATE "Users" SET a = 1', "users"),
        ('DELETE FROM "public"."audit_log"', "audit_log"),
        ("INSERT OR REPLACE INTO ratings (a) VALUES (?)", "ratings"),
        ("UPDATE OR IGNORE ratings SET a = 1", "ratings"),
        ("WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone", "users"),
        ("(WITH x AS (UPDATE points SET v = 0) SELECT 1)", "points"),
        ("MERGE INTO users u USING x ON u.id = x.id WHEN MATCHED THEN UPDATE SET a = 1", "users"),
        ("TRUNCATE sessions", SCHEMA),  # not a row write: a schema-level statement
        ("INSERT INTO sessions SELECT * FROM users; UPDATE users SET a = 1", "users"),
        # A comment inside a comment: PostgreSQL nests them, SQLite does not.
        ("/* /* */ DROP TABLE users; -- */", SCHEMA),
        ("/* never closed DROP TABLE users", SCHEMA),
        ("UPDATE", SCHEMA),  # a write without a table cannot be read
    ],
)
def test_writes_outside_the_writable_tables_are_refused(sql: str, table: str) -> None:
    assert preview.refused_table(sql) == table


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM users WHERE nickname = 'DROP TABLE users; INSERT INTO users'",
        "SELECT $tag$ DELETE FROM users $tag$, E'\\' DELETE FROM users'",
        '/* look */ SELECT "into", "update" FROM t -- DROP TABLE users',
        "  -- the pairing lock\n SELECT pg_advisory_xact_lock(:key)",
        "SELECT id FROM users WHERE id = $1 FOR UPDATE OF users SKIP LOCKED",
        "SELECT id FROM matches FOR NO KEY UPDATE",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "VALUES (1), (2)",
        "TABLE users",
        "SHOW transaction isolation level",
        "select pg_catalog.version()",
        "EXPLAIN SELECT * FROM users",
        "EXPLAIN ANALYZE SELECT * FROM users",
        "EXPLAIN QUERY PLAN SELECT * FROM users",
        "BEGIN",
        "BEGIN IMMEDIATE",
        "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "SAVEPOINT sa_savepoint_1",
        "RELEASE SAVEPOINT sa_savepoint_1",
        "ROLLBACK TO SAVEPOINT sa_savepoint_1",
        "COMMIT",
        "ROLLBACK",
        "END",
        "SET LOCAL statement_timeout = 1000",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        'PRAGMA main.table_info("users")',
        "PRAGMA foreign_keys",
        "INSERT INTO submissions (a) VALUES (%(a)s) RETURNING submissions.id",
        "INSERT INTO submission_tests (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2",
        'UPDATE "judge_outbox" SET sends = sends + 1',
        "DELETE FROM public.sessions WHERE id_hash = $1",
        "WITH x AS (SELECT 1) INSERT INTO log_records (a) SELECT * FROM x",
        "SELECT replace(nickname, 'a', 'b') FROM users",
    ],
)
def test_reads_transactions_and_writable_writes_run(sql: str) -> None:
    assert preview.refused_table(sql) is None, preview.written_tables(sql)


# ---- On a real database: the refused statement never reaches it.


def test_a_guarded_engine_refuses_each_bypass_and_the_tables_stay(database_url: str) -> None:
    postgres = database_url.startswith("postgresql")
    bypasses = [
        "/* */ DROP TABLE users",
        "-- note\nDELETE FROM users",
        "SELECT * INTO stolen FROM users" if postgres else "CREATE TABLE stolen AS SELECT 1",
        "LOCK TABLE users" if postgres else "DROP INDEX ix_users_created_at",
        "/* /* */ DROP TABLE users; -- */",
    ]

    async def run() -> tuple[list[str], int]:
        db = Database(database_url)
        preview.guard(db.engine)
        refused = []
        try:
            async with db.session() as session:
                await make_user(session, "kept")
                await session.commit()
        except preview.PreviewReadOnly as exc:
            refused.append(exc.table)  # users is not WRITABLE: even the seed is refused
        try:
            for sql in bypasses:
                async with db.session() as session:
                    with pytest.raises(preview.PreviewReadOnly) as caught:
                        await session.execute(text(sql))
                    refused.append(caught.value.table)
            async with db.reading() as session:
                users = int(await session.scalar(text("SELECT count(*) FROM users")) or 0)
        finally:
            await db.dispose()
        return refused, users

    refused, users = asyncio.run(run())
    assert refused[0] == "users" and len(refused) == 1 + len(bypasses)
    assert users == 0  # the table is there (the count ran) and nothing was written


# ---- The operators' commands on a preview's database.


def test_operators_commands_in_a_preview_read_but_do_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    runner = CliRunner()
    seeded = runner.invoke(app, ["users", "token", "operator"])  # before: not a preview
    assert seeded.exit_code == 0, seeded.output

    for name, value in {"ENVIRONMENT": "preview", "SECRET_KEY": secrets.token_urlsafe(48),
                        "BASE_URL": "https://preview.example"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    counts = runner.invoke(app, ["db", "counts"])
    assert counts.exit_code == 0, counts.output
    assert "users\t1" in counts.output.splitlines()
    checked = runner.invoke(app, ["db", "check", "--no-blobs"])
    assert checked.output.endswith("finding(s)\n"), checked.output

    role = runner.invoke(app, ["users", "role", "operator", "admin", "--reason", "try"])
    assert role.exit_code == 2
    assert role.output == "error: This is a preview: changes are not saved.\n"
    token = runner.invoke(app, ["users", "token", "someone-else"])
    assert token.exit_code == 2 and "preview" in token.output
    after = runner.invoke(app, ["db", "counts"])
    assert after.output == counts.output  # nothing was written
