"""The preview's second line (docs/operations.md "Preview mode"): the documented GRANT
block, applied to a migrated PostgreSQL copy, leaves a role that reads every table and
writes only the guard's WRITABLE tables. The role is cluster-wide: a unique name, dropped
afterwards."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import asyncpg

from codebattle.db import preview

DOCS = Path(__file__).parents[2] / "docs" / "operations.md"


def _grant_block() -> str:
    section = DOCS.read_text("utf-8").split("## Preview mode", 1)[1]
    found = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert found, "no SQL block in Preview mode"
    return found.group(1)


def test_the_documented_role_reads_all_and_writes_only_the_writable_tables(
    pg_url: str,
) -> None:
    role = f"cb_preview_{uuid.uuid4().hex[:10]}"
    block = _grant_block().replace("codebattle_preview", role)
    named = set(re.findall(r"ON ((?:\w+, )*\w+) TO", block.split("INSERT, UPDATE, DELETE", 1)[1]))
    assert {t.strip() for t in next(iter(named)).split(",")} == preview.WRITABLE
    dsn = pg_url.replace("postgresql+asyncpg", "postgresql")

    async def run() -> dict[str, str]:
        conn = await asyncpg.connect(dsn)
        outcomes: dict[str, str] = {}
        try:
            await conn.execute(block)
            await conn.execute(f'SET ROLE "{role}"')
            attempts = {
                "read users": "SELECT count(*) FROM users",
                "read audit_log": "SELECT count(*) FROM audit_log",
                "write sessions": "DELETE FROM sessions WHERE false",
                "write submissions": "UPDATE submissions SET id = id WHERE false",
                "submission id": "SELECT nextval('submissions_id_seq')",
                "write users": "UPDATE users SET role = 'admin' WHERE false",
                "write ratings": "DELETE FROM ratings WHERE false",
                "schema": "CREATE TABLE stolen (a int)",
            }
            for name, sql in attempts.items():
                async with conn.transaction():
                    try:
                        await conn.execute(sql)
                        outcomes[name] = "ran"
                    except asyncpg.InsufficientPrivilegeError:
                        outcomes[name] = "denied"
        finally:
            await conn.execute("RESET ROLE")
            await conn.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
            await conn.close()
        return outcomes

    assert asyncio.run(run()) == {
        "read users": "ran",
        "read audit_log": "ran",
        "write sessions": "ran",
        "write submissions": "ran",
        "submission id": "ran",
        "write users": "denied",
        "write ratings": "denied",
        "schema": "denied",
    }
