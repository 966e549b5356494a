"""Fair play over HTTP: a player's report of an opponent after a game, and the operators'
flag pages (the list, and one flag with its evidence). Operators and admins only read
flags; everyone else gets 404, as for a page that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from codebattle.accounts.roles import is_staff
from codebattle.errors import UserError
from codebattle.fairplay import assess, evidence, reports
from codebattle.fairplay.models import DECISIONS, SUSPEND
from codebattle.i18n import translate
from codebattle.ops import decisions, overview
from codebattle.services import services_of
from codebattle.web.forms import form_of
from codebattle.web.ids import Id
from codebattle.web.ops_forms import (
    MAX_REASON,
    confirm_step,
    confirmed,
    number_of,
    outside_of,
    reason_of,
    require_operator,
)
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
    """Who reads flags: staff (accounts/roles.py; moderators handle chat only)."""
    if not is_staff(current_user(request)):
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


def _status(value: str | None, default: str) -> str:
    return value if value in evidence.FILTERS else default


@router.get("/api/ops/flags", tags=["fairplay"])
async def flags_json(request: Request, status: str = "all") -> list[dict[str, Any]]:
    """The flags queue: high before review, oldest first; `status` open, decided or all."""
    _require_reviewer(request)
    async with services_of(request).db.reading() as session:
        return await evidence.flag_list(session, _status(status, "all"))


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
async def flags_page(request: Request, status: str = "open") -> HTMLResponse:
    """The queue: high flags first, the oldest first within a level; open ones unless
    asked for the decided ones or all."""
    _require_reviewer(request)
    chosen = _status(status, "open")
    async with services_of(request).db.reading() as session:
        flags = await evidence.flag_list(session, chosen)
    locale = locale_of(request)
    return render(
        request, "ops_flags.html", flags=flags, status=chosen, filters=evidence.FILTERS,
        reason_text=lambda r: reason_text(locale, r), ops_section="flags",
    )  # fmt: skip


async def _flag_page(
    request: Request,
    flag_id: int,
    status_code: int = 200,
    notice: str = "",
    form: dict[str, str] | None = None,
    kept_form: str = "",
) -> HTMLResponse:
    """The flag's page; `form` (with `kept_form`, which one) is shown again as sent."""
    flag = await _flag(request, flag_id)
    async with services_of(request).db.reading() as session:
        appeals = await overview.flag_appeals(session, flag_id)
    locale = locale_of(request)
    days = services_of(request).settings.suspension_days
    chosen = number_of((form or {}).get("days"), 1, max(days))
    default_days = chosen if chosen in days else None
    if default_days is None:
        default_days = DEFAULT_SUSPENSION_DAYS if DEFAULT_SUSPENSION_DAYS in days else days[0]
    return render(
        request, "ops_flag.html", status_code=status_code, flag=flag, appeals=appeals,
        ranges_text=evidence.ranges_text, reason_text=lambda r: reason_text(locale, r),
        decisions=DECISIONS, suspension_days=days, default_days=default_days,
        decision=(form or {}).get("decision", ""), notice=notice,
        done=request.query_params.get("done", ""), ops_section="flags",
        max_reason=MAX_REASON, kept_form=kept_form, kept_reason=(form or {}).get("reason", ""),
    )  # fmt: skip


@router.get("/ops/flags/{flag_id}", response_class=HTMLResponse, include_in_schema=False)
async def flag_page(request: Request, flag_id: Id) -> HTMLResponse:
    return await _flag_page(request, flag_id)


DEFAULT_SUSPENSION_DAYS = 7  # preselected on the decision form when the settings offer it


@router.post("/ops/flags/{flag_id}/decision", include_in_schema=False)
async def decide_flag(request: Request, flag_id: Id) -> Response:
    """An operator's decision on a flag (ops/decisions.py), confirmed first. Someone who
    decided the same flag a moment earlier wins: this one is told so (409), not applied."""
    actor = require_operator(request)
    form = await form_of(request)
    decision = form.get("decision", "")
    if decision not in DECISIONS:
        raise UserError(422, "ops.decision_unknown")
    days: int | None = None
    locale = locale_of(request)
    try:
        if decision == SUSPEND:
            allowed = services_of(request).settings.suspension_days
            days = number_of(form.get("days"), 1, max(allowed))
            if days not in allowed:
                raise UserError(422, "ops.days_invalid", days=", ".join(map(str, allowed)))
        reason = reason_of(form)
    except UserError as error:  # shown again with the operator's words kept
        message = translate(error.key, locale, **error.params)
        return await _flag_page(request, flag_id, error.status, message, form, "decision")
    if not confirmed(form):
        flag = await _flag(request, flag_id)
        what = translate(f"ops.decision.{decision}", locale)
        if days is not None:
            what += " · " + translate("ops.flag.days_n", locale, days=days)
        return confirm_step(
            request, form, action=f"/ops/flags/{flag_id}/decision",
            title=translate("ops.flag.decision", locale),
            facts=[translate("ops.confirm.decision", locale, id=flag_id,
                             name=flag["user"]["nickname"], decision=what),
                   translate(f"ops.decision_effect.{decision}", locale),
                   translate("ops.confirm.reason_shown", locale, reason=reason)],
            back=f"/ops/flags/{flag_id}#decision",
        )  # fmt: skip
    try:
        async with services_of(request).db.session() as session:
            await decisions.decide(
                session, flag_id, actor, decision, reason, days=days,
                allowed_days=services_of(request).settings.suspension_days,
                outside=outside_of(request),
            )  # fmt: skip
    except UserError as error:
        if error.status not in (409, 422):  # decided a moment earlier; a reason refused
            raise
        message = translate(error.key, locale, **error.params)
        return await _flag_page(request, flag_id, error.status, message, form, "decision")
    return RedirectResponse(f"/ops/flags/{flag_id}?done=decided#decision", status_code=303)


@router.post("/ops/flags/{flag_id}/overturn", include_in_schema=False)
async def overturn_flag(request: Request, flag_id: Id) -> Response:
    """Undo a decision (ops/decisions.overturn): everything it did is reversed."""
    actor = require_operator(request)
    form = await form_of(request)
    locale = locale_of(request)
    try:
        reason = reason_of(form)
    except UserError as error:
        message = translate(error.key, locale, **error.params)
        return await _flag_page(request, flag_id, error.status, message, form, "overturn")
    if not confirmed(form):
        return confirm_step(
            request, form, action=f"/ops/flags/{flag_id}/overturn",
            title=translate("ops.flag.overturn", locale),
            facts=[translate("ops.confirm.overturn", locale, id=flag_id),
                   translate("ops.confirm.reason", locale, reason=reason)],
            back=f"/ops/flags/{flag_id}#decision",
        )  # fmt: skip
    try:
        async with services_of(request).db.session() as session:
            await decisions.overturn(session, flag_id, actor, reason, outside=outside_of(request))
    except UserError as error:
        if error.status not in (409, 422):
            raise
        message = translate(error.key, locale, **error.params)
        return await _flag_page(request, flag_id, error.status, message, form, "overturn")
    return RedirectResponse(f"/ops/flags/{flag_id}?done=overturned#decision", status_code=303)
