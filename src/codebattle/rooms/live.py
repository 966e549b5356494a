"""Rooms in motion: apply an action (a player's, the host's, a judge result, the time) and
publish what happened; the deadline sweep of rooms."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from codebattle import logs
from codebattle.accounts.models import User
from codebattle.battles import eventlog
from codebattle.rooms import service as rooms
from codebattle.rooms.models import RoomEvent
from codebattle.services import Services
from codebattle.submissions.service import Target
from codebattle.submissions.submit import Place


def channel(room_id: int) -> str:
    return f"room:{room_id}"


async def act(
    services: Services, room_id: int, user: User | None, action: str, **params: Any
) -> list[RoomEvent]:
    """Apply an action to a room (rooms.change) and publish what happened."""
    with logs.bound(room_id=room_id):  # on the lines logged meanwhile
        async with services.db.session() as session:
            entries = await rooms.change(session, room_id, user, action, **params)
        await services.pubsub.publish_many(
            [(channel(room_id), eventlog.message(entry)) for entry in entries]
        )
    return entries


async def sweep(services: Services, now: float | None = None) -> None:
    """End the rooms whose time is up, with or without clients."""
    async with services.db.reading() as session:  # no write lock for a look
        due = await rooms.due(session, time.time() if now is None else now)
    for room_id in due:
        await act(services, room_id, None, "tick")


def room_place(room_id: int, user_id: int, problem: object) -> Place:
    """A submission in a room: to one of its problems, by a member, while it runs (as
    battles.live.match_place is one in a match)."""

    async def target(session: AsyncSession) -> Target:
        return await rooms.room_target(session, room_id, user_id, problem)

    return Place(target, room_id=room_id)
