"""The avatar shop: cosmetic items bought with points, owned, worn (docs/progress.md).

Nothing sold here changes play: avatars, profile frames, editor themes, name colours."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.rewards.models import EquippedItem

SLOTS = ("avatar", "frame", "theme", "name_color")


@dataclass(frozen=True)
class Look:
    """What a player wears, as pages show it next to their name."""

    avatar: str | None = None  # the item code of the avatar (its SVG: /static/shop/<code>.svg)
    frame: str | None = None  # the item code of the profile frame
    name_color: str | None = None  # a CSS colour from the catalogue
    theme: str | None = None  # the item code of the editor theme


async def looks(session: AsyncSession, user_ids: list[int]) -> dict[int, Look]:
    """Each user's look (a default Look for those who wear nothing), in one query."""
    worn: dict[int, dict[str, str]] = {uid: {} for uid in user_ids}
    if user_ids:
        rows = await session.execute(
            select(EquippedItem.user_id, EquippedItem.slot, EquippedItem.item).where(
                EquippedItem.user_id.in_(user_ids)
            )
        )
        for uid, slot, item in rows.all():
            worn.setdefault(uid, {})[slot] = item
    return {
        uid: Look(
            avatar=slots.get("avatar"),
            frame=slots.get("frame"),
            name_color=None,  # the catalogue maps a name-colour item to its colour
            theme=slots.get("theme"),
        )
        for uid, slots in worn.items()
    }
