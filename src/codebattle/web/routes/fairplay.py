"""Fair play over HTTP: a player's report of an opponent after a game, and the operators'
flag pages (the list, and one flag with its evidence). Operators and admins only read
flags; everyone else gets 404, as for a page that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from codebattle.errors import UserError
from codebattle.fairplay import assess, evidence, reports
from codebattle.i18n import translate
from codebattle.services import services_of
from codebattle.web.ids import Id
from codebattle.web.render import locale_of, render
from codebattle.web.security import (
    SESSION,
    check_csrf,
    current_user,
    require_api_write,
    require_user,
)

router = APIRouter()


class ReportIn(BaseModel):
    reason: str = Field(max_length=32, description=f"One of: {', '.join(reports.REASONS)}")
    text: str | None = Field(
        default=None, max_length=4 * reports.MAX_TEXT,
        description=f"the reporter's own words, up to {reports.MAX_TEXT} characters",
    )  # fmt: skip


@router.post("/api/matches/{match_id}/report", status_code=201, tags=["fairplay"])
async def report_opponent(request: Request, match_id: Id, body: ReportIn) -> dict[str, Any]:
    """Report the opponent of a finished game (once per game). An operator reads it."""
    user = require_api_write(request)
    services = services_of(request)
    async with services.db.session() as session:
        filed = await reports.file_report(
            session, services.ratelimit, user, match_id, body.reason, body.text,
            per_day=services.settings.REPORTS_PER_DAY,
        )  # fmt: skip
    return {"id": filed.report.id, "reported": True}


@router.get("/api/matches/{match_id}/report", tags=["fairplay"])
async def report_status(request: Request, match_id: Id) -> dict[str, Any]:
    """Whether the signed-in player already reported this game's opponent."""
    user = require_user(request)
    async with services_of(request).db.reading() as session:
        return {
            "reported": await reports.reported(session, user.id, match_id),
            "reasons": list(reports.REASONS),
        }


def _require_reviewer(request: Request) -> None:
    if not evidence.may_review(current_user(request)):
        raise UserError(404, "not_found")


def reason_text(locale: str, reason: dict[str, Any]) -> str:
    """A flag's reason in words (`fairplay.reason.<signal>` with its params); a reason whose
    params do not fit its text shows the signal's name, never an error."""
    signal = str(reason.get("signal", ""))
    params = reason.get("params") or {}
    try:
        return translate(f"fairplay.reason.{signal}", locale, **params)
    except (KeyError, IndexError, ValueError, TypeError):
        return translate(f"fairplay.signal.{signal}", locale)


@router.get("/api/ops/flags", tags=["fairplay"])
async def flags_json(request: Request) -> list[dict[str, Any]]:
    _require_reviewer(request)
    async with services_of(request).db.reading() as session:
        return await evidence.flag_list(session)


async def _flag(request: Request, flag_id: int) -> dict[str, Any]:
    _require_reviewer(request)
    services = services_of(request)
    async with services.db.reading() as session:
        data = await evidence.flag_detail(session, services.blobs, flag_id)
    if data is None:
        raise UserError(404, "not_found")
    if data["match_id"] is not None:  # what GPTZero said of the chat, if it was asked
        chat = await assess.chat_ai_text(_context(request), data["match_id"], data["user"]["id"])
        data["chat"] = chat.to_dict()
    return data


def _context(request: Request) -> assess.Context:
    services = services_of(request)
    return assess.Context(services.db, services.blobs, services.settings)


@router.post("/ops/flags/{flag_id}/chat-ai-text", include_in_schema=False)
async def ask_about_chat(
    request: Request, flag_id: Id, csrf_token_field: str = Form("", alias="csrf_token")
) -> Response:
    """An operator asks GPTZero about what the flagged player wrote in the game's chat
    (cached by content: asking again costs nothing)."""
    flag = await _flag(request, flag_id)
    if getattr(request.state, "auth", "") == SESSION:  # a token is no cookie: no CSRF
        check_csrf(request, csrf_token_field)
    if flag["match_id"] is None:
        raise UserError(404, "not_found")
    await assess.chat_ai_text(_context(request), flag["match_id"], flag["user"]["id"], ask=True)
    return RedirectResponse(f"/ops/flags/{flag_id}#chat", status_code=303)


@router.get("/api/ops/flags/{flag_id}", tags=["fairplay"])
async def flag_json(request: Request, flag_id: Id) -> dict[str, Any]:
    return await _flag(request, flag_id)


@router.get("/ops/flags", response_class=HTMLResponse, include_in_schema=False)
async def flags_page(request: Request) -> HTMLResponse:
    _require_reviewer(request)
    async with services_of(request).db.reading() as session:
        flags = await evidence.flag_list(session)
    locale = locale_of(request)
    return render(
        request, "ops_flags.html", flags=flags, reason_text=lambda r: reason_text(locale, r)
    )


@router.get("/ops/flags/{flag_id}", response_class=HTMLResponse, include_in_schema=False)
async def flag_page(request: Request, flag_id: Id) -> HTMLResponse:
    flag = await _flag(request, flag_id)
    locale = locale_of(request)
    return render(
        request, "ops_flag.html", flag=flag, ranges_text=evidence.ranges_text,
        reason_text=lambda r: reason_text(locale, r),
    )  # fmt: skip
