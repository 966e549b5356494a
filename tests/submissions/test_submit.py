"""submissions.submit is the one way code comes in: it saves the submission, tells the game
of it (a match's `before_judging`) in the transaction that saves it, before the job is
queued, and only for a submission that counts (not a sample or custom run); a place that
refuses stops it before anything is saved."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.models import Submission
from codebattle.storage import LocalBlobStore
from codebattle.submissions import service
from codebattle.submissions.submit import Place, submit
from tests.support.factories import make_problem_version, make_user

CODE = "print(sum(map(int, input().split())))\n"


class Queue:
    def __init__(self, said: list[Any]) -> None:
        self.said = said

    async def enqueue(self, job: dict[str, Any]) -> None:
        self.said.append(("enqueued", job["submission"], job["run_all"]))


@pytest.fixture
def said() -> list[Any]:
    return []


@pytest.fixture
def services(db: Database, tmp_path: Path, said: list[Any]) -> Any:
    return SimpleNamespace(
        db=db,
        blobs=LocalBlobStore(tmp_path / "blobs"),
        queue=Queue(said),
        settings=SimpleNamespace(MAX_CODE_BYTES=64 * 1024),
    )


async def test_a_place_is_told_before_judging_and_only_of_what_counts(
    services: Any, said: list[Any]
) -> None:
    async with services.db.session() as session:
        version = await make_problem_version(session, services.blobs)
        user = await make_user(session)
        await session.commit()
        target = service.Target(
            version.problem_id, version.id, version.package_key, version.time_limit,
            version.test_count,
        )  # fmt: skip

    async def target_of(_session: object) -> service.Target:
        return target

    async def before_judging(session: Any, submission_id: int, made_at: float) -> None:
        # In the transaction that saves it: the submission is there, not yet committed.
        assert session.in_transaction() and await session.get(Submission, submission_id)
        said.append(("told", submission_id, made_at > 0))

    place = Place(target_of, match_id=None, room_id=None, before_judging=before_judging)
    made = await submit(services, user, None, "python", CODE, place=place)
    assert said == [("told", made.id, True), ("enqueued", made.id, False)]
    said.clear()
    samples = await submit(services, user, None, "python", CODE, kind="samples", place=place)
    assert said == [("enqueued", samples.id, False)]  # a sample run counts for nothing


async def test_a_refusing_place_saves_nothing(services: Any, said: list[Any]) -> None:
    async with services.db.session() as session:
        user = await make_user(session)
        await session.commit()

    async def closed(_session: object) -> service.Target:
        raise UserError(409, "match_not_running")

    with pytest.raises(UserError):
        await submit(services, user, "hello-battle", "python", CODE, place=Place(closed))
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
    assert said == []
