"""What the tests need of this machine: PostgreSQL and Redis on loopback, the starter
problems, and `require` (skip when the host lacks something; in CI a skip is a failure)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = ROOT / "problems"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def require(condition: bool, reason: str) -> None:
    """Skip when the host lacks something, except in CI, where a skip is a failure."""
    if condition:
        return
    if os.environ.get("CODEBATTLE_REQUIRE_ALL") == "1":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def fresh_pg_database(template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own (empty, or a copy of the `template` database),
    dropped afterwards."""
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
