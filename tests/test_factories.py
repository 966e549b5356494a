"""The test-data factories (tests/support/factories.py) make rows the code could have made."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from codebattle.battles import fsm
from codebattle.db.session import Database
from codebattle.models import MatchPlayer, PlayerRating
from codebattle.storage import LocalBlobStore
from codebattle.submissions.models import QUEUED
from tests.support.factories import (
    STARTER,
    make_match,
    make_problem_version,
    make_room,
    make_submission,
    make_user,
)


async def test_each_factory_makes_a_consistent_row(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        version = await make_problem_version(session, blobs)
        assert (await make_problem_version(session, blobs)).id == version.id  # imported once
        host, guest = await make_user(session), await make_user(session, rated_games=7)
        assert host.nickname != guest.nickname
        rating = await session.get(PlayerRating, guest.id)
        assert rating is not None and rating.games == 7

        submission = await make_submission(session, blobs, host)
        assert submission.problem_version_id == version.id and submission.status == QUEUED
        assert blobs.get(submission.code_key) == b"print(1)\n"

        match = await make_match(session, version, [host, guest.id], now=1_700_000_000.0)
        assert match.problem_version_id == version.id and match.state == fsm.State.countdown
        players = select(MatchPlayer.user_id).where(MatchPlayer.match_id == match.id)
        assert set(await session.scalars(players)) == {host.id, guest.id}

        room = await make_room(session, host, [STARTER])
        assert room.host_id == host.id and room.problems == [version.id]
        assert room.state == "open"
