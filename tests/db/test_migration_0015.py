"""Migration 0015 (the judge outbox): submissions unfinished at the upgrade get an outbox
entry that is due at once, so a relay sends their jobs again; finished ones get none and
count as reported. On SQLite and PostgreSQL (the empty_url fixture of test_migrations)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from codebattle.submissions import outbox
from tests.db.test_migrations import A_PLAYER_AND_PROBLEM, _run, empty_url

__all__ = ["empty_url"]  # the fixture, imported to be used here

COLUMNS = (
    "id, user_id, problem_id, problem_version_id, kind, language, code_key, code_size, "
    "status, compile_output, run_output, message, tests_total, tests_passed, max_time, "
    "max_memory, judge_time, created_at, finished_at, verdict"
)


def submission(number: int, status: str) -> str:
    finished = "CURRENT_TIMESTAMP, 'AC'" if status == "done" else "NULL, NULL"
    return (
        f"INSERT INTO submissions ({COLUMNS}) VALUES ({number}, 1, 1, 1, 'submit', 'python', "
        f"'code/x', 10, '{status}', '', '', '', 1, 0, 0.0, 0, 0.0, CURRENT_TIMESTAMP, "
        f"{finished})"
    )


def test_unfinished_submissions_get_a_due_entry(empty_url: str) -> None:
    upgrade(empty_url, "0014")
    asyncio.run(
        _run(
            empty_url,
            *A_PLAYER_AND_PROBLEM,
            submission(1, "queued"),
            submission(2, "running"),
            submission(3, "done"),
        )
    )
    upgrade(empty_url)
    entries, reported, unreported = asyncio.run(
        _run(
            empty_url,
            "SELECT count(*) FROM judge_outbox WHERE submission_id IN (1, 2) AND sends = 0 "
            "AND due_at IS NOT NULL",
            "SELECT count(*) FROM submissions WHERE id = 3 AND reported_at = finished_at",
            "SELECT count(*) FROM submissions WHERE reported_at IS NULL",
        )
    )
    assert (entries, reported, unreported) == (2, 1, 2)

    async def claimed() -> list[int]:
        # The backfilled entries are due now for the relay, whatever the database wrote
        # for CURRENT_TIMESTAMP (SQLite: seconds only).
        db = Database(empty_url)
        try:
            async with db.session() as session:
                return await outbox.claim(session, datetime.now(UTC))
        finally:
            await db.dispose()

    assert asyncio.run(claimed()) == [1, 2]
