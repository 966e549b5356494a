"""One event log for matches and rooms (battles/eventlog.py), on SQLite and PostgreSQL: the
same table shape, the same numbering, the same reading from a sequence number, the same
not-found rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from codebattle.battles import service as battles
from codebattle.battles.models import MatchEvent
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.rooms import service as rooms
from codebattle.rooms.models import RoomEvent
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_match, make_problem_version, make_room, make_user


def test_match_and_room_logs_have_one_shape() -> None:
    def shape(model: type[MatchEvent] | type[RoomEvent], stream: str) -> dict[str, str]:
        columns = inspect(model).columns
        return {("stream" if c.key == stream else c.key): str(c.type) for c in columns}

    assert shape(MatchEvent, "match_id") == shape(RoomEvent, "room_id")
    assert battles.LOG.stream_id.key == "match_id" and rooms.LOG.stream_id.key == "room_id"


async def test_both_logs_number_read_and_refuse_alike(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        version = await make_problem_version(session, blobs)
        host, player = await make_user(session), await make_user(session)
        match = await make_match(session, version, [host, player])
        room = await make_room(session, host)
        await session.commit()
        match_id, room_id = match.id, room.id
    for log, stream_id in ((battles.LOG, match_id), (rooms.LOG, room_id)):
        async with db.session() as session:
            row = await log.locked(session, stream_id)
            before = row.seq
            added = log.append(session, row, [{"type": "note", "at": 1.0, "n": 1},
                                              {"type": "note", "at": 2.0, "n": 2}])  # fmt: skip
            await session.commit()
            assert [e.seq for e in added] == [before + 1, before + 2] and row.seq == before + 2
            logged = await log.since(session, stream_id, 0)
            assert [e.seq for e in logged] == list(range(1, before + 3))
            new = await log.since(session, stream_id, before)
            assert [(e.type, e.at, e.data) for e in new] == [
                ("note", 1.0, {"n": 1}), ("note", 2.0, {"n": 2}),
            ]  # fmt: skip
            assert await log.since(session, stream_id, before + 2) == []
            # No such stream: LookupError, and the session is usable afterwards.
            with pytest.raises(LookupError):
                await log.locked(session, 999_999)
            assert (await log.locked(session, stream_id)).seq == before + 2
            await session.rollback()
    # Each service says it its own way: a match's callers catch LookupError, a room's 404.
    async with db.session() as session:
        with pytest.raises(LookupError):
            await battles.apply(session, 999_999, None)
        with pytest.raises(UserError) as unknown:
            await rooms.change(session, 999_999, None, "tick")
        assert (unknown.value.status, unknown.value.key) == (404, "room_unknown")
