"""How a player is shown next to their name everywhere (rankings, lobby, rooms, arena):
nickname, whether an AI, the all-time rating with its tier, and the look they wear from
the shop. One query per kind for many players, so a table of fifty costs three reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.progress import service as progress
from codebattle.progress.tiers import Tier, tier_of
from codebattle.rewards import shop


@dataclass(frozen=True)
class PlayerTag:
    user_id: int
    nickname: str
    is_ai: bool
    display: int  # the all-time rating shown
    tier: Tier
    look: shop.Look = field(default_factory=shop.Look)

    @property
    def color(self) -> str:
        """The name's colour: a worn name colour, else the tier's."""
        return self.look.name_color or self.tier.color


async def tags(session: AsyncSession, user_ids: list[int]) -> dict[int, PlayerTag]:
    """The tags of these users (unknown ids are left out)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    users = {
        uid: (nickname, bool(is_ai))
        for uid, nickname, is_ai in (
            await session.execute(
                select(User.id, User.nickname, User.is_ai).where(User.id.in_(wanted))
            )
        ).all()
    }
    found = list(users)
    standings = await progress.standings(session, found)
    looks = await shop.looks(session, found)
    return {
        uid: PlayerTag(
            user_id=uid,
            nickname=nickname,
            is_ai=is_ai,
            display=standings[uid].display,
            tier=tier_of(standings[uid].display),
            look=looks.get(uid, shop.Look()),
        )
        for uid, (nickname, is_ai) in users.items()
    }
