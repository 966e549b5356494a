"""The AI opponent's lease, on SQLite and PostgreSQL: one driver plays a game's AI at a time,
another takes it over once the lease has run out or its holder gave it up (its instance
stopped), and nobody plays a finished game."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from codebattle.battles import fsm
from codebattle.battles.ai_player import _hold, release
from codebattle.battles.models import MatchRow
from codebattle.db.session import Database
from tests.battles.test_service import new_match


async def _set(db: Database, match_id: int, **values: Any) -> None:
    async with db.session() as session:
        row = await session.get(MatchRow, match_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)
        await session.commit()


async def test_one_driver_at_a_time(db: Database, tmp_path: Path) -> None:
    match_id, _a, _b = await new_match(db, tmp_path)
    services: Any = SimpleNamespace(db=db)
    assert await _hold(services, match_id, "one", take_over=True)  # nobody held it
    assert not await _hold(services, match_id, "two", take_over=True)
    assert await _hold(services, match_id, "one", take_over=False)  # renewed
    assert not await _hold(services, match_id, "two", take_over=False)

    await _set(db, match_id, ai_lease_until=time.time() - 1)  # "one" stopped renewing
    assert await _hold(services, match_id, "two", take_over=True)
    assert not await _hold(services, match_id, "one", take_over=False)  # so "one" stops

    await release(services, match_id, "one")  # not its lease any more: nothing changes
    assert not await _hold(services, match_id, "three", take_over=True)
    await release(services, match_id, "two")  # its instance stops: free at once
    assert await _hold(services, match_id, "three", take_over=True)

    await _set(db, match_id, state=fsm.State.finished)
    assert not await _hold(services, match_id, "three", take_over=False)
    await _set(db, match_id, ai_lease_until=time.time() - 1)
    assert not await _hold(services, match_id, "four", take_over=True)
