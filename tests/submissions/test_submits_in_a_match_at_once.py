"""Both players of a duel submit at the same moment, many times over: every submission is
saved with its `submitted` event, none fails (on PostgreSQL a new submission's foreign key
locks its match's key; the match is then locked for its event: FOR NO KEY UPDATE taken
first, in `match_target`, keeps two such transactions from deadlocking), and the log's
sequence numbers stay whole (each transaction reads the match afresh under its lock)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from codebattle.battles import live
from codebattle.battles import service as battles
from codebattle.battles.models import MatchEvent
from codebattle.db.session import Database
from codebattle.realtime.pubsub import MemoryPubSub
from codebattle.storage import LocalBlobStore
from codebattle.submissions.submit import submit
from tests.support.factories import GAME, make_match, make_problem_version, make_user

ROUNDS = 8


class Queue:
    def __init__(self) -> None:
        self.jobs: list[int] = []

    async def enqueue(self, job: dict[str, Any]) -> None:
        self.jobs.append(job["submission"])


async def test_two_players_submitting_at_once_never_fail(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        version = await make_problem_version(session, blobs)
        alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
        row = await make_match(session, version, [alice, bob], now=time.time() - GAME.countdown)
        await session.commit()
        match_id = row.id
    async with db.session() as session:
        await battles.apply(session, match_id, None)  # started
    queue = Queue()
    services = SimpleNamespace(
        db=db, blobs=blobs, queue=queue, pubsub=MemoryPubSub(),
        settings=SimpleNamespace(MAX_CODE_BYTES=64 * 1024),
    )  # fmt: skip

    async def one(user_id: int, n: int) -> int:
        async with db.reading() as session:
            user = await session.get(type(alice), user_id)
        place = live.match_place(services, match_id, user_id)  # type: ignore[arg-type]
        made = await submit(services, user, None, "python", f"print({n})\n", place=place)  # type: ignore[arg-type]
        return made.id

    made: list[int] = []
    for n in range(ROUNDS):
        made += await asyncio.gather(one(alice.id, n), one(bob.id, n))
    assert sorted(queue.jobs) == sorted(made)
    async with db.reading() as session:
        log = list(
            await session.scalars(
                select(MatchEvent).where(MatchEvent.match_id == match_id).order_by(MatchEvent.seq)
            )
        )
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    submitted = [e.data["submission"] for e in log if e.type == "submitted"]
    assert sorted(submitted) == sorted(made)
