"""A submission's status while judged (issue 18): queued, "compiling" once a worker started,
"running" once it compiled or a test came, then done; never back, whatever order events
come in or however often. On SQLite and PostgreSQL (the status column holds "compiling")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codebattle.db.session import Database
from codebattle.storage import LocalBlobStore
from codebattle.submissions import messages, recording
from codebattle.submissions import service as submissions
from codebattle.submissions.models import Submission
from tests.support.factories import make_problem_version, make_submission, make_user

TEST = {"name": "sample/1", "verdict": "AC", "time": 0.01, "memory": 5, "sample": True}


async def queued(db: Database, tmp_path: Path) -> int:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session, "carol")
        return (await make_submission(session, blobs, user, language="cpp")).id


async def status_of(db: Database, submission_id: int) -> str:
    async with db.session() as session:
        found = await session.get(Submission, submission_id)
        assert found is not None
        return found.status


async def record_each(
    db: Database, events: list[dict[str, Any]], batched: bool
) -> list[recording.Recorded | None]:
    if batched:  # as the queue hands them over when they arrive together
        async with db.session() as session:
            return await recording.record_batch(session, events)  # type: ignore[arg-type]
    found = []
    for event in events:
        async with db.session() as session:
            found.append(await recording.record(session, event))  # type: ignore[arg-type]
    return found


def seen(found: list[recording.Recorded | None]) -> list[tuple[str, str] | None]:
    return [None if r is None else (r.change, r.status) for r in found]


async def test_started_is_compiling_and_compiled_is_running(db: Database, tmp_path: Path) -> None:
    sub = await queued(db, tmp_path)
    steps = [
        ({"submission": sub, "type": "started"}, "compiling"),
        ({"submission": sub, "type": "compiled"}, "running"),
        ({"submission": sub, "type": "test", "index": 0, "test": TEST}, "running"),
        ({"submission": sub, "type": "done", "result": {"verdict": "AC"}}, "done"),
    ]
    for event, status in steps:
        [recorded] = await record_each(db, [event], batched=False)
        assert recorded is not None and recorded.status == status
        assert await status_of(db, sub) == status
    async with db.session() as session:
        shown = await submissions.to_json(session, await session.get(Submission, sub))
    assert shown["status"] == "done" and shown["verdict"] == "AC"


@pytest.mark.parametrize("batched", [False, True])
async def test_each_change_keeps_the_status_it_left(
    db: Database, tmp_path: Path, batched: bool
) -> None:
    sub = await queued(db, tmp_path)
    events = [
        {"submission": sub, "type": "started"},
        {"submission": sub, "type": "compiled"},
        {"submission": sub, "type": "test", "index": 0, "test": TEST},
    ]
    # In one batch too, "started" is published as compiling (the status it left), not as
    # the running the batch ended with.
    assert seen(await record_each(db, events, batched)) == [
        ("status", "compiling"), ("status", "running"), ("test", "running"),
    ]  # fmt: skip
    assert await status_of(db, sub) == "running"


@pytest.mark.parametrize("batched", [False, True])
async def test_a_test_without_compiled_before_it_is_running(
    db: Database, tmp_path: Path, batched: bool
) -> None:
    sub = await queued(db, tmp_path)
    events = [
        {"submission": sub, "type": "started"},
        {"submission": sub, "type": "test", "index": 0, "test": TEST},
    ]  # an older worker sends no "compiled"
    assert seen(await record_each(db, events, batched)) == [
        ("status", "compiling"), ("test", "running"),
    ]  # fmt: skip
    assert await status_of(db, sub) == "running"


@pytest.mark.parametrize("batched", [False, True])
async def test_late_and_repeated_events_never_take_the_status_back(
    db: Database, tmp_path: Path, batched: bool
) -> None:
    sub = await queued(db, tmp_path)
    events = [
        {"submission": sub, "type": "compiled"},  # its "started" comes late
        {"submission": sub, "type": "started"},
        {"submission": sub, "type": "test", "index": 0, "test": TEST},
        # The job is redelivered: a second worker starts and compiles again.
        {"submission": sub, "type": "started"},
        {"submission": sub, "type": "compiled"},
        {"submission": sub, "type": "done", "result": {"verdict": "AC"}},
        {"submission": sub, "type": "started"},  # after the end: nothing
        {"submission": sub, "type": "compiled"},
    ]
    assert seen(await record_each(db, events, batched)) == [
        ("status", "running"), ("status", "running"), ("test", "running"),
        ("status", "running"), ("status", "running"), ("done", "done"), None, None,
    ]  # fmt: skip
    assert await status_of(db, sub) == "done"


async def test_a_compile_error_goes_from_compiling_to_done(db: Database, tmp_path: Path) -> None:
    sub = await queued(db, tmp_path)
    events = [
        {"submission": sub, "type": "started"},
        {"submission": sub, "type": "done", "result": {"verdict": "CE", "compile_output": "e"}},
    ]
    assert seen(await record_each(db, events, batched=False)) == [
        ("status", "compiling"), ("done", "done"),
    ]  # fmt: skip


async def test_the_socket_message_names_the_status(db: Database, tmp_path: Path) -> None:
    sub = await queued(db, tmp_path)
    found = await record_each(
        db,
        [{"submission": sub, "type": "started"}, {"submission": sub, "type": "compiled"}],
        batched=True,
    )
    sent = [messages.of(r) for r in found if r is not None]
    assert sent == [
        {"v": 1, "type": "status", "status": "compiling"},
        {"v": 1, "type": "status", "status": "running"},
    ]
