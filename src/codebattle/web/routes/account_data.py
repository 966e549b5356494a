"""A person's data: download it (JSON), delete the account; and the feedback form.

The export gathers from several capabilities (accounts, submissions, battles, ratings), so
its reads of submissions and games are here, above them all, as plain queries."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import billing, deletion, feedback, profiles
from codebattle.accounts.models import User
from codebattle.battles.models import MatchPlayer, MatchRow
from codebattle.errors import UserError
from codebattle.integrations import portone
from codebattle.problems.models import Problem
from codebattle.progress.models import RatingChange
from codebattle.services import services_of
from codebattle.storage import BlobStore, S3Error
from codebattle.submissions.models import Submission
from codebattle.web.render import render
from codebattle.web.security import check_csrf, current_user, require_account, require_user
from codebattle.web.sessions import end_everywhere, sessions_of

log = structlog.get_logger(__name__)
router = APIRouter()
FEEDBACK_PER_HOUR = 10
EXPORTS_PER_HOUR = 10
HOUR = 3600.0
# The code blobs an export fetches at once: a bucket's round trips overlap (the S3 store
# has as many threads), and one person's export does not queue all of them at once.
EXPORT_FETCHES = 8


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _submission_rows(session: AsyncSession, user: User) -> list[Row[Submission, str]]:
    query = (
        select(Submission, Problem.slug)
        .join(Problem, Problem.id == Submission.problem_id)
        .where(Submission.user_id == user.id)
        .order_by(Submission.id)
    )
    return list((await session.execute(query)).all())


async def _code_of(blobs: BlobStore, key: str, fetches: asyncio.Semaphore) -> str | None:
    """The code, or None if the blob is lost or the bucket refuses it: the rest of the
    export is still theirs. A bucket away for a moment (a transient S3Error) is raised: the
    whole export is a 503, to be asked again, rather than one with holes."""
    async with fetches:
        try:
            return (await blobs.aget(key)).decode("utf-8", errors="replace")
        except (OSError, KeyError):
            return None
        except S3Error as exc:
            if exc.transient:
                raise
            log.warning("an exported submission's code could not be read", key=key, error=str(exc))
            return None


async def _submissions(blobs: BlobStore, rows: list[Row[Submission, str]]) -> list[dict[str, Any]]:
    fetches = asyncio.Semaphore(EXPORT_FETCHES)
    codes = await asyncio.gather(
        *(_code_of(blobs, s.code_key, fetches) for s, _ in rows), return_exceptions=True
    )
    for code in codes:
        if isinstance(code, BaseException):  # one error, not a group: the outage handler's
            raise code
    return [
        {
            "id": s.id,
            "problem": slug,
            "kind": s.kind,
            "language": s.language,
            "verdict": s.verdict,
            "max_time": s.max_time,
            "created_at": _iso(s.created_at),
            "match_id": s.match_id,
            "room_id": s.room_id,
            "code": code,
        }
        for (s, slug), code in zip(rows, codes, strict=True)
    ]


async def _games(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    matches = list(
        await session.scalars(
            select(MatchRow)
            .join(MatchPlayer, MatchPlayer.match_id == MatchRow.id)
            .where(MatchPlayer.user_id == user.id)
            .order_by(MatchRow.id)
        )
    )
    ids = [m.id for m in matches]
    opponents: dict[int, list[str]] = {}
    changes: dict[int, int] = {}
    if ids:
        for match_id, nickname in await session.execute(
            select(MatchPlayer.match_id, User.nickname)
            .join(User, User.id == MatchPlayer.user_id)
            .where(MatchPlayer.match_id.in_(ids), MatchPlayer.user_id != user.id)
        ):
            opponents.setdefault(match_id, []).append(nickname)
        for change in await session.scalars(
            select(RatingChange).where(
                RatingChange.user_id == user.id, RatingChange.match_id.in_(ids)
            )
        ):
            moved = change.after - change.before
            changes[change.match_id] = changes.get(change.match_id, 0) + moved

    def result(match: MatchRow) -> str:
        if match.state != "finished":
            return match.state
        if match.winner_id is None:
            return "draw"
        return "win" if match.winner_id == user.id else "loss"

    return [
        {
            "match_id": m.id,
            "mode": m.mode,
            "rated": m.rated,
            "created_at": _iso(m.created_at),
            "opponents": opponents.get(m.id, []),
            "result": result(m),
            "rating_change": changes.get(m.id),
        }
        for m in matches
    ]


@router.get("/settings/export", include_in_schema=False)
async def export(request: Request) -> Response:
    user = require_account(request)
    services = services_of(request)
    wait = await services.ratelimit.hit(f"export:{user.id}", EXPORTS_PER_HOUR, HOUR)
    if wait is not None:
        raise UserError(429, "export_rate_limited", minutes=max(1, round(wait / 60)))
    async with services.db.reading() as session:
        data = await profiles.account_export(session, user)
        rows = await _submission_rows(session, user)
        data["submissions"] = []  # the code is fetched below, with no connection held
        data["games"] = await _games(session, user)
        data["payments"] = await billing.payments_export(session, user.id)
    data["submissions"] = await _submissions(services.blobs, rows)
    data["sessions"] = [
        {
            "via": device.via,
            "device": device.device,
            "created_at": _iso(device.created_at),
            "last_seen_at": _iso(device.last_seen_at),
            "this_browser": device.this,
        }
        for device in await sessions_of(request, user)
    ]
    data = {"exported_at": datetime.now(UTC).isoformat(), **data}
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="codebattle-data-{stamp}.json"',
            "cache-control": "no-store",
        },
    )


@router.get("/settings/delete", response_class=HTMLResponse, include_in_schema=False)
async def delete_page(request: Request) -> HTMLResponse:
    require_account(request)
    return render(request, "account_delete.html", error=None, done=False)


@router.post("/settings/delete", response_class=HTMLResponse, include_in_schema=False)
async def delete(
    request: Request,
    confirm_nickname: str = Form(""),
    csrf_token_field: str = Form("", alias="csrf_token"),
) -> HTMLResponse:
    check_csrf(request, csrf_token_field)
    user = require_account(request)
    try:
        services = services_of(request)
        async with services.db.session() as session:
            await deletion.delete_account(
                session, user.id, confirm_nickname, portone.client_for(services.settings)
            )
    except UserError as exc:
        return render(
            request, "account_delete.html", status_code=exc.status, error=exc.key, done=False
        )
    await end_everywhere(request, user)  # every browser and device, this one too
    request.state.user = None
    return render(request, "account_delete.html", error=None, done=True)


def _feedback_page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("error", None)
    context.setdefault("values", {})
    return render(
        request,
        "feedback.html",
        status_code=status_code,
        categories=feedback.CATEGORIES,
        limit=feedback.MAX_TEXT,
        **context,
    )


@router.get("/feedback", response_class=HTMLResponse, include_in_schema=False)
async def feedback_page(request: Request, page: str = "") -> HTMLResponse:
    if current_user(request) is not None:
        require_user(request)  # a restricted account stores nothing (under 14 without consent)
    came_from = feedback.page_of(page) or _referer_path(request)
    return _feedback_page(request, values={"page": came_from})


def _referer_path(request: Request) -> str:
    referer = request.headers.get("referer", "")
    host = request.headers.get("host", "")
    for scheme in ("http://", "https://"):
        prefix = f"{scheme}{host}"
        if host and referer.startswith(prefix):
            return feedback.page_of(referer[len(prefix) :] or "/")
    return ""


@router.post("/feedback", response_class=HTMLResponse, include_in_schema=False)
async def send_feedback(
    request: Request,
    category: str = Form(""),
    text: str = Form(""),
    page: str = Form(""),
    csrf_token_field: str = Form("", alias="csrf_token"),
) -> Response:
    check_csrf(request, csrf_token_field)
    user = require_user(request) if current_user(request) is not None else None
    services = services_of(request)
    who = f"user:{user.id}" if user is not None else f"ip:{_client(request)}"
    values = {"category": category, "text": text[: feedback.MAX_TEXT + 100], "page": page[:300]}
    try:
        wait = await services.ratelimit.hit(f"feedback:{who}", FEEDBACK_PER_HOUR, HOUR)
        if wait is not None:
            raise UserError(429, "feedback_rate_limited", minutes=max(1, round(wait / 60)))
        async with services.db.session() as session:
            await feedback.add(session, user, category, text, page, request.state.locale)
    except UserError as exc:
        return _feedback_page(
            request, exc.status, error=exc.key, error_params=exc.params, values=values
        )
    return RedirectResponse("/feedback/thanks", status_code=303)


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


@router.get("/feedback/thanks", response_class=HTMLResponse, include_in_schema=False)
async def feedback_thanks(request: Request) -> HTMLResponse:
    return render(request, "feedback_thanks.html")
