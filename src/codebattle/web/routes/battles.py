"""Battles over HTTP: the ranked queue, games against the AI, matches, replays, chat
moderation, and the pages (lobby, arena, replay). The live part is battles/socket.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, StrictInt

from codebattle.accounts import plans, sanctions
from codebattle.accounts.models import User
from codebattle.battles import ai_player, chat, fsm, live, lobby, replay
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow
from codebattle.errors import UserError
from codebattle.problems import service as problems
from codebattle.problems.models import ProblemVersion
from codebattle.problems.templates import choices_of, templates_of
from codebattle.rewards import players
from codebattle.services import services_of
from codebattle.web.ids import Id
from codebattle.web.preview import refused_as
from codebattle.web.render import locale_of, render, statement_markup
from codebattle.web.security import require_api_write, require_user

router = APIRouter()


class AiMatchIn(BaseModel):
    level: str | None = Field(default=None, max_length=10, description="easy, medium or hard")


class MuteIn(BaseModel):
    minutes: StrictInt = Field(ge=0, le=60 * 24 * 30, description="0 lifts the mute")


async def _queue_status(request: Request, user: User) -> dict[str, Any]:
    """Where the player stands in the queue, with their plan and games left today
    (`games_left` null: unlimited)."""
    services = services_of(request)
    async with services.db.reading() as session:  # polled while waiting: no write lock
        status = await lobby.status(session, user.id, live.queue_rules(services))
        games = await plans.allowance(session, user, services.settings, datetime.now(UTC))
    return {**status, **games.as_json()}


@router.get("/api/queue", tags=["battles"])
async def queue_status(request: Request) -> dict[str, Any]:
    return await _queue_status(request, require_user(request))


@router.post("/api/queue", tags=["battles"])
async def join_queue(request: Request) -> dict[str, Any]:
    user = require_api_write(request)
    services = services_of(request)
    with refused_as("preview_games_off"):  # a preview writes no ticket (decision 0030)
        async with services.db.session() as session:
            await lobby.join(session, user.id, limits=services.settings)
    await live.pair_now(services)
    return await _queue_status(request, user)


@router.delete("/api/queue", tags=["battles"])
async def leave_queue(request: Request) -> dict[str, Any]:
    user = require_api_write(request)
    async with services_of(request).db.session() as session:
        await lobby.leave(session, user.id)
    return {"state": "idle"}


@router.post("/api/matches/ai", status_code=201, tags=["battles"])
async def play_ai(request: Request, body: AiMatchIn) -> dict[str, Any]:
    user = require_api_write(request)
    with refused_as("preview_games_off"):  # a preview writes no match (decision 0030)
        match_id = await ai_player.start_match(services_of(request), user.id, body.level)
    return {"id": match_id}


async def _match(request: Request, match_id: int) -> tuple[MatchRow, dict[str, Any]]:
    require_user(request)
    async with services_of(request).db.reading() as session:
        row = await session.get(MatchRow, match_id)
        if row is None:
            raise UserError(404, "match_unknown")
        return row, await battles.match_json(session, row, locale_of(request))


@router.get("/api/matches/{match_id}", tags=["battles"])
async def get_match(request: Request, match_id: Id) -> dict[str, Any]:
    return (await _match(request, match_id))[1]


@router.get("/api/matches", tags=["battles"])
async def list_matches(request: Request, live_only: bool = True) -> list[dict[str, Any]]:
    """Live games for spectators, or (live_only=false) the signed-in player's history."""
    user = require_user(request)
    async with services_of(request).db.reading() as session:
        rows = await battles.recent_matches(
            session, live=live_only, user_id=None if live_only else user.id
        )
        return await battles.matches_json(session, rows, locale_of(request))


async def _replay(
    request: Request, match_id: int, after: str | None = None, limit: int = replay.PAGE_ITEMS
) -> dict[str, Any]:
    """A replay's first page (`after` None: the match, its log, submissions, code) or a
    later page of its code."""
    row, data = await _match(request, match_id)
    if row.state not in (fsm.State.finished, fsm.State.cancelled):
        raise UserError(409, "match_not_over")  # no code while the game is on
    cursor = replay.parse_cursor(after)
    services = services_of(request)
    page_bytes = services.settings.REPLAY_PAGE_BYTES
    async with services.db.reading() as session:
        if after is not None:
            return await replay.code_page(
                session, row, services.blobs, cursor, limit=limit, page_bytes=page_bytes
            )
        first = await replay.first_page(
            session, row, services.blobs, limit=limit, page_bytes=page_bytes
        )
        return {"match": data, **first}


@router.get("/api/matches/{match_id}/replay", tags=["battles"])
async def get_replay(
    request: Request,
    match_id: Id,
    after: str | None = Query(None, max_length=16, description="`next` of the previous page"),
    limit: int = Query(replay.PAGE_ITEMS, ge=1, le=replay.MAX_PAGE_ITEMS),
) -> dict[str, Any]:
    """After the game: the first page (the match, its events, its submissions, the first code
    items), or with `after` the next page of code. Follow `next` until it is null."""
    return await _replay(request, match_id, after, limit)


@router.delete("/api/matches/{match_id}/chat/{message_id}", tags=["battles"])
async def delete_chat(request: Request, match_id: Id, message_id: Id) -> dict[str, Any]:
    user = require_api_write(request)
    await live.delete_chat(services_of(request), user, match_id, message_id)
    return {"deleted": message_id}


@router.post("/api/users/{user_id}/mute", tags=["battles"])
async def mute_user(request: Request, user_id: Id, body: MuteIn) -> dict[str, Any]:
    moderator = require_api_write(request)
    async with services_of(request).db.session() as session:
        user = await chat.mute(session, moderator, user_id, body.minutes)
        until = user.muted_until.isoformat() if user.muted_until else None
    return {"user": user_id, "muted_until": until}


@router.get("/play", response_class=HTMLResponse, include_in_schema=False)
async def lobby_page(request: Request) -> HTMLResponse:
    user = require_user(request)
    services = services_of(request)
    async with services.db.reading() as session:
        live_rows = await battles.recent_matches(session, live=True)
        mine = await battles.recent_matches(session, user_id=user.id, limit=10)
        live_games = await battles.matches_json(session, live_rows, locale_of(request))
        history = await battles.matches_json(session, mine, locale_of(request))
        games = await plans.allowance(session, user, services.settings, datetime.now(UTC))
    # A suspended player sees why ranked play is closed, and until when, before trying it.
    suspended = (
        None
        if sanctions.may_play_ranked(user, datetime.now(UTC)) or user.suspended_until is None
        else sanctions.local_date(user.suspended_until, services.settings.plan_zone)
    )
    # The message shown when no game is left (what the next plan gives); None on Pro.
    games_error = (
        plans.limit_error(services.settings, games.plan, games.limit)
        if games.limit is not None
        else None
    )
    return render(
        request, "lobby.html", live_games=live_games, history=history, games=games,
        games_error=games_error, suspended=suspended,
    )  # fmt: skip


@router.get("/matches/{match_id}", response_class=HTMLResponse, include_in_schema=False)
async def arena_page(request: Request, match_id: Id) -> HTMLResponse:
    user = require_user(request)
    row, data = await _match(request, match_id)
    is_player = any(p["id"] == user.id for p in data["players"])
    # Spectators read the statement too; only code stays private during the game.
    statement, samples, version = await _problem_text(request, row)
    async with services_of(request).db.reading() as session:  # tier and look of each
        tags = await players.tags(session, [p["id"] for p in data["players"]])
    return render(
        request, "arena.html", match=data, is_player=is_player, tags=tags,
        statement_html=statement_markup(version, locale_of(request)),
        samples=problems.samples_to_show(statement, samples),
        templates=templates_of(version), languages=choices_of(version),
    )  # fmt: skip


async def _problem_text(request: Request, row: MatchRow) -> tuple[str, list[Any], ProblemVersion]:
    async with services_of(request).db.reading() as session:
        version = await session.get(ProblemVersion, row.problem_version_id)
        assert version is not None
        _lang, statement = problems.statement_of(version, locale_of(request))
        return statement, version.samples, version


@router.get("/matches/{match_id}/replay", response_class=HTMLResponse, include_in_schema=False)
async def replay_page(request: Request, match_id: Id) -> HTMLResponse:
    return render(request, "replay.html", replay=await _replay(request, match_id))
