"""A player's profile: rating, its history (each change with its reason) as a graph, and
the games they played."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from codebattle.accounts.models import User
from codebattle.battles import service as battles
from codebattle.errors import UserError
from codebattle.progress import rankings
from codebattle.progress import service as progress
from codebattle.progress.ratings import PROVISIONAL_GAMES
from codebattle.progress.tiers import tier_of
from codebattle.rewards import achievements, shop
from codebattle.services import services_of
from codebattle.web.render import locale_of, render
from codebattle.web.security import require_user

router = APIRouter()
GRAPH_WIDTH, GRAPH_HEIGHT = 600, 160


async def profile_json(request: Request, nickname: str) -> dict[str, Any]:
    require_user(request)
    async with services_of(request).db.reading() as session:
        user = await session.scalar(select(User).where(User.nickname == nickname[:32]))
        if user is None:
            raise UserError(404, "not_found")
        standing = (await progress.standings(session, [user.id]))[user.id]
        changes = await progress.history(session, user.id)
        games = await battles.recent_matches(session, user_id=user.id, limit=20)
        matches = await battles.matches_json(session, games, locale_of(request))
        finals = await rankings.badges(session, user.id)  # past seasons' final places
        look = (await shop.looks(session, [user.id]))[user.id]  # what they wear (the shop)
        earned = await achievements.profile(
            session, user, locale_of(request), services_of(request).settings
        )
    return {
        "nickname": user.nickname,
        "ai": user.is_ai,
        "rating": standing.display,
        "rated_games": standing.rated_games,
        # A new account's rating is provisional until it has finished a few rated games.
        "provisional": standing.provisional,
        "provisional_games_left": max(0, PROVISIONAL_GAMES - standing.rated_games),
        "changes": [
            {
                "match": c.match_id,
                "before": c.before,
                "after": c.after,
                "delta": c.after - c.before,
                "reason": c.reason,
                "at": c.created_at.isoformat(),
            }
            for c in changes
        ],  # fmt: skip
        "matches": matches,
        "tier": tier_of(standing.display).json(),
        "seasons": [{"season": n, "tier": code, "rank": rank} for n, code, rank in finals],
        "look": {"avatar": look.avatar, "frame": look.frame, "name_color": look.name_color},
        "achievements": earned,  # the catalogue: earned ones dated, hidden ones once earned
    }


def graph_points(changes: list[dict[str, Any]]) -> str:
    """An SVG polyline of the rating over time, oldest first (server-drawn: no script)."""
    values = [c["after"] for c in reversed(changes)]
    if changes:
        values.insert(0, changes[-1]["before"])
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = max(high - low, 1)
    step = GRAPH_WIDTH / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{GRAPH_HEIGHT - 10 - (v - low) / span * (GRAPH_HEIGHT - 20):.1f}"
        for i, v in enumerate(values)
    )


@router.get("/api/users/{nickname}", tags=["progress"])
async def get_profile(request: Request, nickname: str) -> dict[str, Any]:
    return await profile_json(request, nickname)


@router.get("/users/{nickname}", response_class=HTMLResponse, include_in_schema=False)
async def profile_page(request: Request, nickname: str) -> HTMLResponse:
    profile = await profile_json(request, nickname)
    return render(
        request, "profile.html", profile=profile, points=graph_points(profile["changes"]),
        width=GRAPH_WIDTH, height=GRAPH_HEIGHT,
    )  # fmt: skip
