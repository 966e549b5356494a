"""The AI opponent's level is a field of its user (`users.ai_level`), not read out of its
nickname: renaming the AI changes nothing about how it plays, and a person never has one."""

from __future__ import annotations

import asyncio

from codebattle.battles import ai_player
from codebattle.db.session import Database
from tests.support.factories import make_user


async def test_the_level_is_a_field_not_the_nickname(db: Database) -> None:
    async with db.session() as session:
        hard = await ai_player.ai_user(session, "hard")
        assert (hard.nickname, hard.ai_level, hard.is_ai) == ("AI (hard)", "hard", True)
        hard.nickname = "Robo"  # an operator renames it
        person = await make_user(session, "easy")
        await session.commit()
        hard_id, person_id = hard.id, person.id
    async with db.session() as session:
        assert await ai_player.level_of(session, hard_id) == "hard"
        assert (await ai_player.ai_user(session, "hard")).id == hard_id  # found by its level
        assert await ai_player.level_of(session, person_id) is None


async def test_first_games_at_once_share_one_ai_user(db: Database) -> None:
    """Several first games at a level create its AI user at once: one row, every game gets
    it (all but one were a 500, a unique nickname broken, found by bench/load.py)."""

    async def first_game() -> int:
        async with db.session() as session:
            user = await ai_player.ai_user(session, "easy")
            await session.commit()
            return user.id

    assert len(set(await asyncio.gather(*(first_game() for _ in range(4))))) == 1
