"""A rated rematch is ranked play (battles/live.py rematch), on SQLite and PostgreSQL: a
suspended or banned player is refused as the ranked queue refuses them, and nobody's
daily game is taken; an unrated rematch is not ranked play."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from codebattle.accounts import profiles
from codebattle.accounts.models import DailyGames, User
from codebattle.battles import live
from codebattle.battles.models import MatchRow
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_problem_version, make_user
from tests.support.site import settings_for

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


class FakeServices:
    """What rematch uses of the services: the database and the settings."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        coroutine.close()


async def _players(db: Database, tmp_path: Path) -> tuple[int, int]:
    async with db.session() as session:
        await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
        await session.commit()
        return ann.id, bob.id


async def _sanction(db: Database, user_id: int, **values: Any) -> None:
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)
        await session.commit()


async def _games_taken(db: Database) -> int:
    async with db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(DailyGames)) or 0)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"suspended_until": NOW + timedelta(days=3)}, "suspended"),
        ({"banned_at": NOW - timedelta(hours=1)}, "account_banned"),
    ],
)
async def test_a_sanctioned_player_gets_no_rated_rematch(
    db: Database, tmp_path: Path, values: dict[str, Any], key: str
) -> None:
    ann, bob = await _players(db, tmp_path)
    services: Any = FakeServices(db, settings_for(tmp_path))
    await _sanction(db, bob, **values)
    with pytest.raises(UserError) as caught:
        await live.rematch(services, MatchRow(mode="ranked", rated=True), [ann, bob], NOW)
    assert (caught.value.status, caught.value.key) == (403, key)
    if key == "suspended":
        until = (NOW + timedelta(days=3)).astimezone(profiles.SEOUL).date().isoformat()
        assert caught.value.params == {"until": until}
    assert await _games_taken(db) == 0  # nothing taken from the other player either
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(MatchRow)) == 0


async def test_an_unrated_rematch_or_a_suspension_over_is_allowed(
    db: Database, tmp_path: Path
) -> None:
    ann, bob = await _players(db, tmp_path)
    services: Any = FakeServices(db, settings_for(tmp_path))
    await _sanction(db, bob, suspended_until=NOW + timedelta(days=3))
    unrated = MatchRow(mode="ranked", rated=False)
    assert isinstance(await live.rematch(services, unrated, [ann, bob], NOW), int)
    later = NOW + timedelta(days=3, seconds=1)
    rated = MatchRow(mode="ranked", rated=True)
    assert isinstance(await live.rematch(services, rated, [ann, bob], later), int)
