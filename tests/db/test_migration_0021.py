"""Migration 0021: submissions.status is wide enough for "compiling" (PostgreSQL refused a
9-character value in the old 8), and on SQLite, where the table is rebuilt, its rows and
their test results stay. On SQLite and PostgreSQL (the empty_url fixture of
test_migrations); downgraded, a compiling submission is running again."""

from __future__ import annotations

import asyncio

from alembic import command

from codebattle.db.migrate import alembic_config, upgrade
from tests.db.test_migration_0015 import submission
from tests.db.test_migrations import _run, empty_url

__all__ = ["empty_url"]  # the fixture, imported to be used here


def test_a_submission_can_be_compiling_and_keeps_its_tests(empty_url: str) -> None:
    upgrade(empty_url, "0020")
    asyncio.run(
        _run(
            empty_url,
            "INSERT INTO users (id, nickname, locale, role, created_at) "
            "VALUES (1, 'alice', 'en', 'player', CURRENT_TIMESTAMP)",
            "INSERT INTO problems (id, slug, difficulty, tags, search_text, created_at) "
            "VALUES (1, 'p', 'easy', '[]', 'p', CURRENT_TIMESTAMP)",
            "INSERT INTO problem_versions (id, problem_id, number, content_hash, package_key, "
            "names, statements, samples, templates, time_limit, memory_limit, test_count, "
            "interactive, created_at) VALUES (1, 1, 1, 'h', 'packages/x', '{}', '{}', '[]', "
            "'{}', 1.0, 256, 1, false, CURRENT_TIMESTAMP)",
            submission(1, "running"),
            'INSERT INTO submission_tests (id, submission_id, "index", name, verdict, time, '
            "wall_time, memory, sample, feedback) VALUES (1, 1, 0, 't', 'AC', 0.0, 0.0, 0, "
            "false, '')",
        )
    )
    upgrade(empty_url)
    statuses = asyncio.run(
        _run(
            empty_url,
            "UPDATE submissions SET status = 'compiling' WHERE id = 1",
            "SELECT status FROM submissions WHERE id = 1",
            "SELECT count(*) FROM submission_tests WHERE submission_id = 1",
        )
    )
    assert statuses[1:] == ["compiling", 1]
    command.downgrade(alembic_config(empty_url), "0020")
    [status] = asyncio.run(_run(empty_url, "SELECT status FROM submissions WHERE id = 1"))
    assert status == "running"
