"""What the fault-injection tests (tests/chaos) share: a site of the starter problem run as
real processes, a signed-in API client, and reading the database behind the processes, as
an operator with psql would, to check that what a fault could do twice was done once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.pg_server import asyncpg_url
from tests.support.servers import Server, Site

WAIT = 60.0  # seconds any one wait may take (starting a server, judging, a redelivery)


@contextlib.contextmanager
def hello_site(folder: Path, **env: str) -> Iterator[Site]:
    """A site in `folder` with these settings (none: the embedded default, SQLite and the
    in-process queue) and the starter problem imported; its processes stopped afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    site = Site(folder, env=env)
    site.import_problems("hello-battle")
    try:
        yield site
    finally:
        site.stop()


def database_of(site: Site) -> str:
    """The database the site's processes use, as a URL for `query`."""
    url = site.env.get("DATABASE_URL")
    if url is None:
        return f"sqlite+aiosqlite:///{site.data / 'var' / 'codebattle.db'}"
    return asyncpg_url(url)


def client(server: Server, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=WAIT
    )


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one statement on the database at `url` (SQLite or PostgreSQL), through an
    engine of its own: the processes under test hold theirs."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def solved_once(url: str, match_id: int, winner: int, solution: int) -> list[str]:
    """The match ended once, solved by `winner` with `solution`: one "finished" and one
    "rated" event, one rating change per player, the solution AC with each of its tests
    recorded once. Its event types, in order, for the caller's own checks. (The rating
    comes once fair play has assessed the game, a second or two after the end: waited for.)"""
    async with asyncio.timeout(30):
        while True:
            types = [
                kind for (kind,) in await query(
                    url, f"SELECT type FROM match_events WHERE match_id = {match_id} ORDER BY seq"
                )
            ]  # fmt: skip
            if "rated" in types or "rating_held" in types:
                break
            await asyncio.sleep(0.3)
    assert types.count("finished") == 1 and types.count("rated") == 1, types
    [match] = await query(
        url, f"SELECT state, winner_id, reason FROM matches WHERE id = {match_id}"
    )
    assert match == ("finished", winner, "solved"), match
    changes = await query(
        url, f"SELECT user_id, count(*) FROM rating_changes WHERE match_id = {match_id} "
        "GROUP BY user_id",
    )  # fmt: skip
    assert sorted(count for _user, count in changes) == [1, 1], changes
    [(verdict, total, rows, indexes)] = await query(
        url, 'SELECT s.verdict, s.tests_total, count(t."index"), count(DISTINCT t."index") '
        "FROM submissions s LEFT JOIN submission_tests t ON t.submission_id = s.id "
        f"WHERE s.id = {solution} GROUP BY s.id, s.verdict, s.tests_total",
    )  # fmt: skip
    assert verdict == "AC" and rows == indexes == total > 0, (verdict, total, rows, indexes)
    return types
