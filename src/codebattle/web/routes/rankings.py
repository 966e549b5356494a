"""Ranking pages and their JSON: this season's table (my rank and the players around me,
a language filter, placement players apart), a past season's final table (archived, read
from season_standings only), and the all-time table. Public: anyone may read them; a
signed-in player also sees their own line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.errors import UserError
from codebattle.judge.languages import LANGUAGES
from codebattle.progress import rankings, seasons
from codebattle.progress.models import Season
from codebattle.progress.seasons import SeasonRules
from codebattle.progress.tiers import tier_of
from codebattle.rewards import players
from codebattle.services import services_of
from codebattle.web.ids import Id
from codebattle.web.render import render
from codebattle.web.security import current_user

router = APIRouter()
PER_PAGE = 50
MAX_PAGE = 10_000
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
TAB_SEASONS = 8  # past seasons shown as tabs; every one is in the "past seasons" list


def _language(value: str | None) -> str | None:
    """The filter's language: none for "" (all), 422 for a language the judge lacks."""
    if not value:
        return None
    if value not in LANGUAGES:
        raise UserError(422, "bad_request")
    return value


def _me(request: Request) -> int | None:
    user = current_user(request)
    return None if user is None else user.id


def _left(season: Season, now: datetime) -> dict[str, int]:
    """Whole days and hours until the season ends (0 when it has)."""
    rest = max(season.ends_at - now, timedelta(0))
    return {"days": rest.days, "hours": rest.seconds // 3600}


async def _lines(
    session: AsyncSession, table: rankings.Table
) -> tuple[dict[str, Any], dict[int, players.PlayerTag]]:
    everyone = table.lines + table.around + table.placement
    tags = await players.tags(session, [x.user_id for x in everyone])

    def line(x: rankings.Line) -> dict[str, Any]:
        tag, tier = tags.get(x.user_id), tier_of(x.display)
        nickname = tag.nickname if tag else ""
        return {**asdict(x), "nickname": nickname, "tier": tier.code, "tier_color": tier.color}

    data = {
        "total": table.total,
        "lines": [line(x) for x in table.lines],
        "mine": None if table.mine is None else line(table.mine),
        "around": [line(x) for x in table.around],
        "placement": [line(x) for x in table.placement],
    }
    # In a table a name carries the tier of the rating that table ranks.
    shown = {
        x.user_id: replace(tags[x.user_id], display=x.display, tier=tier_of(x.display))
        for x in everyone
        if x.user_id in tags
    }
    return data, shown


def _pages(total: int, page: int) -> dict[str, int | None]:
    last = max(1, -(-total // PER_PAGE))
    return {"page": page, "last": last, "prev": page - 1 if page > 1 else None,
            "next": page + 1 if page < last else None}  # fmt: skip


Build = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def _built(request: Request, build: Build, *, write: bool = False) -> dict[str, Any]:
    """A table's data with what every ranking page has: the past seasons (newest first)
    that have a final table, for the tabs. `write`: the build may start a season."""
    db = services_of(request).db
    async with db.session() if write else db.reading() as session:
        data = await build(session)
        past = [s.number for s in await rankings.past_seasons(session)]
    return {**data, "past": past}


def _season(season: Season) -> dict[str, Any]:
    """The season as the API shows it; the page reads `_season` (the row) for its dates."""
    return {
        "number": season.number,
        "starts_at": season.starts_at.isoformat(),
        "ends_at": season.ends_at.isoformat(),
        "archived": season.archived_at is not None,
    }


async def season_json(request: Request, language: str | None, page: int) -> dict[str, Any]:
    rules = SeasonRules.of(services_of(request).settings)
    lang, now = _language(language), datetime.now(UTC)

    async def build(session: AsyncSession) -> dict[str, Any]:
        season = await seasons.current(session, now, rules)
        await session.commit()
        table = await rankings.season_table(
            session, season, rules, language=lang, offset=(page - 1) * PER_PAGE,
            limit=PER_PAGE, me=_me(request),
        )  # fmt: skip
        data, tags = await _lines(session, table)
        return {"scope": "season", "season": _season(season), "left": _left(season, now),
                "language": lang, "placement_games": rules.placement_games,
                **_pages(table.total, page), **data, "_tags": tags,
                "_season": season}  # fmt: skip

    return await _built(request, build, write=True)


async def past_json(
    request: Request, number: int, language: str | None, page: int
) -> dict[str, Any]:
    lang = _language(language)

    async def build(session: AsyncSession) -> dict[str, Any]:
        season = await seasons.by_number(session, number)
        if season is None or season.archived_at is None:
            raise UserError(404, "not_found")  # no final table (yet)
        table = await rankings.archived_table(
            session, season, language=lang, offset=(page - 1) * PER_PAGE, limit=PER_PAGE,
            me=_me(request),
        )  # fmt: skip
        data, tags = await _lines(session, table)
        return {"scope": "past", "season": _season(season), "language": lang,
                **_pages(table.total, page), **data, "_tags": tags,
                "_season": season}  # fmt: skip

    return await _built(request, build)


async def all_time_json(request: Request, page: int) -> dict[str, Any]:
    async def build(session: AsyncSession) -> dict[str, Any]:
        table = await rankings.all_time_table(
            session, offset=(page - 1) * PER_PAGE, limit=PER_PAGE, me=_me(request)
        )
        data, tags = await _lines(session, table)
        return {"scope": "all_time", **_pages(table.total, page), **data, "_tags": tags}

    return await _built(request, build)


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _page(request: Request, data: dict[str, Any]) -> HTMLResponse:
    season: Season | None = data.get("_season")
    dates = None if season is None else (season.starts_at, season.ends_at)
    return render(request, "rankings.html", data=data, tags=data["_tags"], dates=dates,
                  languages=list(LANGUAGES), tab_count=TAB_SEASONS)  # fmt: skip


@router.get("/api/rankings", tags=["progress"])
async def api_season(
    request: Request, language: str | None = None, page: Page = 1
) -> dict[str, Any]:
    return _public(await season_json(request, language, page))


@router.get("/api/rankings/all-time", tags=["progress"])
async def api_all_time(request: Request, page: Page = 1) -> dict[str, Any]:
    return _public(await all_time_json(request, page))


@router.get("/api/rankings/seasons/{number}", tags=["progress"])
async def api_past(
    request: Request, number: Id, language: str | None = None, page: Page = 1
) -> dict[str, Any]:
    return _public(await past_json(request, number, language, page))


@router.get("/rankings", response_class=HTMLResponse, include_in_schema=False)
async def season_page(
    request: Request, language: str | None = None, page: Page = 1
) -> HTMLResponse:
    return _page(request, await season_json(request, language, page))


@router.get("/rankings/all-time", response_class=HTMLResponse, include_in_schema=False)
async def all_time_page(request: Request, page: Page = 1) -> HTMLResponse:
    return _page(request, await all_time_json(request, page))


@router.get("/rankings/seasons/{number}", response_class=HTMLResponse, include_in_schema=False)
async def past_page(
    request: Request, number: Id, language: str | None = None, page: Page = 1
) -> HTMLResponse:
    return _page(request, await past_json(request, number, language, page))
