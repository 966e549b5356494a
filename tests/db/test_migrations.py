"""Migrations run on SQLite and PostgreSQL, also over existing rows, and match the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from codebattle.db.migrate import upgrade
from codebattle.models import Base
from tests.support.hosts import fresh_pg_database, reachable, require


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    require(reachable(5432), "PostgreSQL on 127.0.0.1:5432")
    with fresh_pg_database() as url:
        yield url


async def _run(url: str, *statements: str) -> list[object]:
    engine = create_async_engine(url)
    results: list[object] = []
    async with engine.begin() as conn:
        for statement in statements:
            result = await conn.execute(text(statement))
            results.append(result.scalar() if result.returns_rows else None)
    await engine.dispose()
    return results


# A problem and its first version, as rows the oldest migrations already have.
A_PROBLEM = (
    "INSERT INTO problems (id, slug, difficulty, tags, search_text, created_at) "
    "VALUES (1, 'p', 'easy', '[]', 'p', CURRENT_TIMESTAMP)",
    "INSERT INTO problem_versions (id, problem_id, number, content_hash, package_key, "
    "names, statements, samples, templates, time_limit, memory_limit, test_count, "
    "interactive, created_at) VALUES (1, 1, 1, 'h', 'packages/x', '{}', '{}', '[]', "
    "'{}', 1.0, 256, 1, false, CURRENT_TIMESTAMP)",
)
# A player, alice, with that problem.
A_PLAYER_AND_PROBLEM = (
    "INSERT INTO users (id, nickname, locale, role, created_at) "
    "VALUES (1, 'alice', 'en', 'player', CURRENT_TIMESTAMP)",
    *A_PROBLEM,
)


def test_upgrades_keep_existing_rows_and_end_where_the_models_are(empty_url: str) -> None:
    upgrade(empty_url, "0002")
    asyncio.run(
        _run(
            empty_url,
            *A_PROBLEM,
        )
    )
    upgrade(empty_url)
    [solutions] = asyncio.run(_run(empty_url, "SELECT solutions FROM problem_versions"))
    assert solutions in ({}, "{}")

    async def differences() -> list[object]:
        engine = create_async_engine(empty_url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        await engine.dispose()
        return list(diff)

    assert asyncio.run(differences()) == []


def test_ai_users_get_their_level_from_their_nickname(empty_url: str) -> None:
    upgrade(empty_url, "0009")
    asyncio.run(
        _run(
            empty_url,
            "INSERT INTO users (id, nickname, locale, role, is_ai, created_at) VALUES "
            "(1, 'AI (hard)', 'en', 'player', true, CURRENT_TIMESTAMP), "
            "(2, 'AI (easy)', 'en', 'player', true, CURRENT_TIMESTAMP), "
            "(3, 'alice', 'ko', 'player', false, CURRENT_TIMESTAMP)",
        )
    )
    upgrade(empty_url)
    levels = asyncio.run(
        _run(empty_url, *(f"SELECT ai_level FROM users WHERE id = {i}" for i in (1, 2, 3)))
    )
    assert levels == ["hard", "easy", None]
