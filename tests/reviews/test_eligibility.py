"""Which game submissions may be reviewed, on SQLite and PostgreSQL: only the player's
final submit, only once the match (or room) is over; the arena's link finds it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from codebattle.accounts.models import User
from codebattle.battles import fsm
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.models import MatchRow, Submission
from codebattle.reviews import service
from codebattle.reviews.models import CodeReview
from codebattle.rooms.models import Room
from codebattle.storage import LocalBlobStore
from codebattle.submissions.models import DONE
from tests.support.factories import (
    make_match,
    make_problem_version,
    make_room,
    make_submission,
    make_user,
)
from tests.support.services import FakeServices
from tests.support.site import settings_for


async def _judged(db: Database, submission_id: int, **values: object) -> None:
    async with db.session() as session:
        await session.execute(
            update(Submission).where(Submission.id == submission_id).values(status=DONE, **values)
        )
        await session.commit()


async def _refused(db: Database, user_id: int, submission_id: int) -> str:
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        with pytest.raises(UserError) as refused:
            await service.eligible(session, user, submission_id)
    return refused.value.key


async def test_a_games_final_submit_once_it_is_over(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        version = await make_problem_version(session, blobs)
        alice, bob = await make_user(session), await make_user(session)
        match = await make_match(session, version, [alice, bob])
        first = await make_submission(session, blobs, alice)
        final = await make_submission(session, blobs, alice)
        for s in (first, final):
            s.match_id = match.id
        await session.commit()
        ids = (alice.id, first.id, final.id, match.id)
    alice_id, first_id, final_id, match_id = ids
    await _judged(db, first_id, verdict="WA")
    await _judged(db, final_id, verdict="WA")
    assert await _refused(db, alice_id, final_id) == "review_game_running"
    async with db.session() as session:
        await session.execute(
            update(MatchRow).where(MatchRow.id == match_id).values(state=fsm.State.finished)
        )
        await session.commit()
    assert await _refused(db, alice_id, first_id) == "review_not_final"
    async with db.session() as session:
        alice_row = await session.get(User, alice_id)
        assert alice_row is not None
        found = await service.eligible(session, alice_row, final_id)  # a WA counts in a game
        assert found.id == final_id
        assert await service.final_in_match(session, alice_row, match_id) == final_id
        bob_row = await session.get(User, bob.id)
        assert bob_row is not None
        with pytest.raises(UserError) as none:
            await service.final_in_match(session, bob_row, match_id)
        assert none.value.key == "review_no_submission"
        with pytest.raises(UserError) as other:
            await service.eligible(session, bob_row, final_id)
        assert other.value.status == 404


async def test_a_rooms_submission_once_the_room_ended(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        await make_problem_version(session, blobs)
        host = await make_user(session)
        room = await make_room(session, host)
        made = await make_submission(session, blobs, host)
        made.room_id = room.id
        await session.commit()
        host_id, made_id, room_id = host.id, made.id, room.id
    await _judged(db, made_id, verdict="AC")
    assert await _refused(db, host_id, made_id) == "review_game_running"
    async with db.session() as session:
        await session.execute(update(Room).where(Room.id == room_id).values(state="ended"))
        await session.commit()
        user = await session.get(User, host_id)
        assert user is not None
        assert (await service.eligible(session, user, made_id)).id == made_id


async def test_two_requests_at_once_make_one_review(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session)
        user.plan = "pro"
        made = await make_submission(session, blobs, user)
        await session.commit()
        user_id, made_id = user.id, made.id
    await _judged(db, made_id, verdict="AC")
    async with db.reading() as session:
        user = await session.get(User, user_id)
        assert user is not None
    services = FakeServices(db, settings_for(tmp_path))
    first, second = await asyncio.gather(
        service.request_review(services, user, made_id),  # type: ignore[arg-type]
        service.request_review(services, user, made_id),  # type: ignore[arg-type]
    )
    assert first.id == second.id and first.status == "pending"
    async with db.reading() as session:
        count = await session.scalar(
            select(func.count()).select_from(CodeReview).where(CodeReview.submission_id == made_id)
        )
    assert count == 1


@pytest.mark.parametrize(
    ("plan", "basic_enabled", "refusal"),
    [
        ("free", True, "review_plan_free"),
        ("basic", True, None),
        ("basic", False, "review_plan_basic_off"),
        ("pro", False, None),
    ],
)
def test_the_plan_gate(tmp_path: Path, plan: str, basic_enabled: bool, refusal: str | None) -> None:
    settings = settings_for(tmp_path, BASIC_REVIEW_ENABLED=basic_enabled)
    user = User(nickname="someone", plan=plan, plan_ends_at=None)
    if refusal is None:
        service.check_plan(settings, user)
        return
    with pytest.raises(UserError) as refused:
        service.check_plan(settings, user)
    assert (refused.value.status, refused.value.key) == (403, refusal)
    assert refused.value.params == {"plan": plan}


class CountingServices(FakeServices):
    """Counts the review tasks started (and closes them unrun)."""

    def __init__(self, db: Database, settings: Any) -> None:
        super().__init__(db, settings)
        self.started = 0

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self.started += 1
        coroutine.close()


async def test_two_restarts_at_once_start_one_task(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed review asked again by two requests at once (or a stale one read by two polls):
    the restart is a compare-and-set, so the work (and the model call) runs once."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session)
        user.plan = "pro"
        made = await make_submission(session, blobs, user)
        await session.commit()
        user_id, made_id = user.id, made.id
    await _judged(db, made_id, verdict="AC")
    async with db.session() as session:
        session.add(
            CodeReview(
                submission_id=made_id, user_id=user_id, source="offline", status="failed",
                body={}, created_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )  # fmt: skip
        await session.commit()
        owner = await session.get(User, user_id)
        assert owner is not None
    # Both requests read the failed row before either writes (the race made certain where
    # the database lets them run at once: PostgreSQL).
    find, seen, both = service.find, 0, asyncio.Event()

    async def find_together(session: Any, submission_id: int) -> CodeReview | None:
        nonlocal seen
        found = await find(session, submission_id)
        seen += 1
        if seen == 2:
            both.set()
        if seen <= 2:  # on SQLite the second waits for the first's write lock: no race
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both.wait(), 1)
        return found

    monkeypatch.setattr(service, "find", find_together)
    services = CountingServices(db, settings_for(tmp_path))
    first, second = await asyncio.gather(
        service.request_review(services, owner, made_id),  # type: ignore[arg-type]
        service.request_review(services, owner, made_id),  # type: ignore[arg-type]
    )
    assert services.started == 1
    assert first.id == second.id and {first.status, second.status} == {"pending"}
    assert first.created_at == second.created_at
    # The task started with the row's new mark claims the work; one with an older mark
    # (a review restarted since) does not, and would stop before the model.
    stale_mark = first.created_at - timedelta(seconds=1)
    assert not await service._claim(services, first.id, stale_mark)  # type: ignore[arg-type]
    assert await service._claim(services, first.id, first.created_at)  # type: ignore[arg-type]
    async with db.reading() as session:
        claimed = await session.get(CodeReview, first.id)
        assert claimed is not None and "started_at" in claimed.body


def _review(status: str, created_ago: timedelta, started_ago: timedelta | None) -> CodeReview:
    now = datetime.now(UTC)
    body = {} if started_ago is None else {"started_at": (now - started_ago).isoformat()}
    return CodeReview(status=status, body=body, created_at=now - created_ago)


def test_staleness_counts_from_when_the_work_started() -> None:
    minutes = timedelta(minutes=1)
    # Queued under load for 20 minutes, its work not started: not lost.
    assert not service._restartable(_review("pending", 20 * minutes, None))
    # Started 2 minutes ago after a long queue: still running.
    assert not service._restartable(_review("pending", 30 * minutes, 2 * minutes))
    # Started 11 minutes ago: its server stopped.
    assert service._restartable(_review("pending", 12 * minutes, 11 * minutes))
    # Never started, asked for long ago (its server stopped while it was queued).
    assert service._restartable(_review("pending", 2 * service.QUEUED_STALE, None))
    assert service._restartable(_review("failed", minutes, None))
    assert not service._restartable(_review("ready", 20 * minutes, 19 * minutes))
