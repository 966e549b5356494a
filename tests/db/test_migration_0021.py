"""Migration 0021: submissions.status is wide enough for "compiling" (PostgreSQL refused a
9-character value in the old 8), and on SQLite, where the table is rebuilt, its rows and
their test results stay; submissions made before get their job's level (priority). On
SQLite and PostgreSQL (the empty_url fixture of test_migrations); downgraded, a compiling
submission is running again."""

from __future__ import annotations

import asyncio

from alembic import command

from codebattle.db.migrate import alembic_config, upgrade
from codebattle.judge.jobs import MATCH, PRACTICE, ROOM, RUN
from tests.db.test_migration_0015 import submission
from tests.db.test_migrations import A_PLAYER_AND_PROBLEM, _run, empty_url

__all__ = ["empty_url"]  # the fixture, imported to be used here


def test_a_submission_can_be_compiling_and_keeps_its_tests(empty_url: str) -> None:
    upgrade(empty_url, "0020")
    asyncio.run(
        _run(
            empty_url,
            *A_PLAYER_AND_PROBLEM,
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


def test_old_submissions_get_the_level_of_where_they_were_made(empty_url: str) -> None:
    """Upgraded, each row has its job's level (a run: a practice run's, as it was judged);
    downgraded, the column is gone and the rows stay."""
    upgrade(empty_url, "0020")
    asyncio.run(
        _run(
            empty_url,
            *A_PLAYER_AND_PROBLEM,
            "INSERT INTO matches (id, mode, rated, problem_id, problem_version_id, state, fsm, "
            "seq, reason, created_at) VALUES (1, 'ranked', true, 1, 1, 'running', '{}', 0, "
            "'', CURRENT_TIMESTAMP)",
            "INSERT INTO rooms (id, code, host_id, title, problems, duration, size_limit, "
            "public, state, members, seq, created_at) VALUES (1, 'abc', 1, 'r', '[1]', 60.0, "
            "10, false, 'running', 1, 0, CURRENT_TIMESTAMP)",
            *(submission(number, "done") for number in range(1, 6)),
            "UPDATE submissions SET match_id = 1 WHERE id = 1",
            "UPDATE submissions SET room_id = 1 WHERE id = 2",
            "UPDATE submissions SET kind = 'samples' WHERE id = 4",
            "UPDATE submissions SET kind = 'custom' WHERE id = 5",
        )
    )
    upgrade(empty_url)
    levels = asyncio.run(
        _run(empty_url, *(f"SELECT priority FROM submissions WHERE id = {n}" for n in range(1, 6)))
    )
    assert levels == [MATCH, ROOM, PRACTICE, RUN, RUN]
    asyncio.run(
        _run(
            empty_url,
            "INSERT INTO submissions (id, user_id, problem_id, problem_version_id, kind, "
            "language, code_key, code_size, status, compile_output, run_output, message, "
            "tests_total, tests_passed, max_time, max_memory, judge_time, created_at) VALUES "
            "(6, 1, 1, 1, 'submit', 'python', 'code/x', 1, 'queued', '', '', '', 1, 0, 0.0, 0, "
            "0.0, CURRENT_TIMESTAMP)",
        )
    )
    [level] = asyncio.run(_run(empty_url, "SELECT priority FROM submissions WHERE id = 6"))
    assert level == PRACTICE  # the server default: a row written without it
    command.downgrade(alembic_config(empty_url), "0020")
    [count] = asyncio.run(_run(empty_url, "SELECT count(*) FROM submissions"))
    assert count == 6
