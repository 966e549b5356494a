"""Appeals over HTTP: a player's appeals (the list, filing one, its thread) and the
operators' pages (the queue by time left, one appeal with its target, reply, assign,
decide). JSON twins of the reading pages serve scripts and tests.

A banned or suspended player still reaches their appeals, through the pages and the API:
appealing is how a sanction is questioned. Operator pages answer 404 to anyone else, as for
a page that does not exist. Every form is confirmed as the dashboard's are (web/ops_forms.py:
a dialog sets confirm=yes; without JS a page asks), and staff never act on their own appeal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from codebattle.accounts.models import User
from codebattle.accounts.roles import is_staff
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.ops import appeals, decisions
from codebattle.ops.models import (
    APPEAL_KINDS,
    DECISION,
    GAME,
    GRANTED,
    VERDICT,
    Appeal,
    AppealMessage,
)
from codebattle.services import services_of
from codebattle.web.forms import form_of
from codebattle.web.ids import BodyId, Id, valid_id
from codebattle.web.ops_forms import confirm_step, confirmed, outside_of, require_operator
from codebattle.web.render import format_local, locale_of, render
from codebattle.web.security import (
    CSRF_HEADER,
    SESSION,
    check_csrf,
    require_user,
)

router = APIRouter()

# The query parameter of /appeals/new that names each kind's target.
TARGET_PARAM = {DECISION: "flag", GAME: "match", VERDICT: "submission"}
FILTERS = (appeals.MINE, appeals.UNASSIGNED, appeals.ALL)


def _player(request: Request) -> User:
    """The signed-in player, banned or not (appeals are how a ban is questioned)."""
    return require_user(request, allow_banned=True)


def _text(form: dict[str, str]) -> str:
    return form.get("text", "").replace("\r\n", "\n")


def span_text(seconds: float, locale: str) -> str:
    """A duration as an operator reads it: "2d 3h", "5h 10m", "7m"."""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return translate("appeals.span_dh", locale, d=days, h=hours)
    if hours:
        return translate("appeals.span_hm", locale, h=hours, m=mins)
    return translate("appeals.span_m", locale, m=mins)


def left_text(seconds: float, locale: str) -> str:
    """ "2d 3h left" or "lapsed 5h ago"."""
    span = span_text(seconds, locale)
    key = "appeals.time_left" if seconds > 0 else "appeals.time_lapsed"
    return translate(key, locale, time=span)


def _appeal_json(appeal: Appeal) -> dict[str, Any]:
    return {
        "id": appeal.id, "kind": appeal.kind, "status": appeal.status,
        "outcome": appeal.outcome, "flag_id": appeal.flag_id, "match_id": appeal.match_id,
        "submission_id": appeal.submission_id, "created_at": appeal.created_at,
        "first_response_due": appeal.first_response_due, "decision_due": appeal.decision_due,
        "first_response_at": appeal.first_response_at, "decided_at": appeal.decided_at,
    }  # fmt: skip


def _message_json(message: AppealMessage, *, names: dict[int, str] | None) -> dict[str, Any]:
    """One message; `names` (operators only) shows staff authors' names, else "Operator"."""
    data: dict[str, Any] = {
        "id": message.id, "staff": message.staff, "text": message.text,
        "created_at": message.created_at,
    }  # fmt: skip
    if names is not None and message.author_id is not None:
        data["author"] = names.get(message.author_id)
    return data


async def _with_decisions(session: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each DECISION appeal's row gets `about` (appeals.DecisionFacts as a dict): the
    decision as the player was told it, never the internal flag."""
    facts = await appeals.decision_facts(session, [r["flag_id"] for r in rows if r["flag_id"]])
    for row in rows:
        found = facts.get(row["flag_id"]) if row["flag_id"] else None
        row["about"] = found.to_dict() if found else None
    return rows


def decision_text(facts: appeals.DecisionFacts, request: Request) -> str:
    """ "Suspension until 2026-12-15 09:00 KST, decided 2026-12-08" in the reader's words."""
    locale = locale_of(request)
    zone = services_of(request).settings.plan_zone
    if facts.decision == "suspend" and facts.until is not None:
        which = translate(
            "appeals.decision.suspend_until", locale, date=format_local(facts.until, zone)
        )
    else:
        which = translate(f"appeals.decision.{facts.decision}", locale)
    if facts.decided_at is None:
        return which
    when = format_local(facts.decided_at, zone, "date")
    return translate("appeals.about_decision_of", locale, decision=which, date=when)


# --- the player's pages -----------------------------------------------------------------


async def _mine(request: Request) -> list[dict[str, Any]]:
    user = _player(request)
    async with services_of(request).db.reading() as session:
        rows = [_appeal_json(a) for a in await appeals.of_user(session, user.id)]
        return await _with_decisions(session, rows)


@router.get("/api/appeals", tags=["appeals"])
async def my_appeals_json(request: Request) -> list[dict[str, Any]]:
    """The signed-in player's appeals, the newest first."""
    return await _mine(request)


@router.get("/appeals", response_class=HTMLResponse, include_in_schema=False)
async def my_appeals_page(request: Request) -> HTMLResponse:
    return render(request, "appeals.html", appeals=await _mine(request))


def _target_of(flag: int | None, match: int | None, submission: int | None) -> tuple[str, int]:
    for kind, value in ((DECISION, flag), (GAME, match), (VERDICT, submission)):
        if value is not None:
            return kind, value
    raise UserError(404, "not_found")


def _new_page(
    request: Request, kind: str, target: int, status_code: int = 200, **ctx: Any
) -> HTMLResponse:
    ctx.setdefault("error", None)
    ctx.setdefault("text", "")
    ctx.setdefault("about", None)
    ctx.setdefault("decided_id", None)
    return render(
        request, "appeal_new.html", status_code=status_code, kind=kind, target=target,
        param=TARGET_PARAM[kind], min_text=appeals.MIN_TEXT, max_text=appeals.MAX_TEXT, **ctx,
    )  # fmt: skip


def _ids(kind: str, target: int) -> dict[str, int | None]:
    return {
        "flag_id": target if kind == DECISION else None,
        "match_id": target if kind == GAME else None,
        "submission_id": target if kind == VERDICT else None,
    }


@router.get("/appeals/new", response_class=HTMLResponse, include_in_schema=False)
async def new_appeal_page(
    request: Request,
    flag: str | None = None,
    match: str | None = None,
    submission: str | None = None,
) -> HTMLResponse:
    """The form, about what the query names (404 unless it is the player's own)."""
    user = _player(request)
    kind, target = _target_of(*(valid_id(v) if v else None for v in (flag, match, submission)))
    ids = _ids(kind, target)
    async with services_of(request).db.reading() as session:
        await appeals.check_target(
            session, user, kind, ids["flag_id"], ids["match_id"], ids["submission_id"]
        )
        about = await _about(session, kind, target)
        decided = await appeals.decided_before(
            session, user.id, kind, ids["flag_id"], ids["match_id"], ids["submission_id"]
        )
    if decided is not None:  # final: say so before anything is written
        error = translate("appeal_decided_before", locale_of(request), id=decided)
        return _new_page(request, kind, target, error=error, about=about, decided_id=decided)
    return _new_page(request, kind, target, about=about)


async def _about(session: Any, kind: str, target: int) -> dict[str, Any] | None:
    """The decision a DECISION appeal is about, as the player was told it."""
    if kind != DECISION:
        return None
    found = (await appeals.decision_facts(session, [target])).get(target)
    return found.to_dict() if found else None


@router.post("/appeals/new", include_in_schema=False)
async def new_appeal(request: Request) -> Response:
    """File the appeal once confirmed; unconfirmed, its text and target are checked and a
    page asks first."""
    user = _player(request)
    form = await form_of(request)
    kind, text = form.get("kind", ""), _text(form)
    target_id = valid_id(form.get("target", ""))
    if kind not in APPEAL_KINDS or target_id is None:
        raise UserError(404, "not_found")
    ids = _ids(kind, target_id)
    services = services_of(request)
    locale = locale_of(request)
    try:
        if not confirmed(form):
            appeals.check_text(text)
            async with services.db.reading() as session:
                await appeals.check_target(
                    session, user, kind, ids["flag_id"], ids["match_id"], ids["submission_id"]
                )
                facts = (await appeals.decision_facts(session, [target_id])).get(target_id)
            if kind == DECISION and facts is not None:
                about = decision_text(facts, request)
            else:
                about = translate(f"appeals.about_{kind}", locale, id=target_id)
            return confirm_step(
                request, form, action="/appeals/new", title=translate("appeals.new_title", locale),
                facts=[translate("appeals.confirm_file", locale),
                       translate("appeals.confirm_about", locale, target=about)],
                back=f"/appeals/new?{TARGET_PARAM[kind]}={target_id}", staff_nav=False,
            )  # fmt: skip
        async with services.db.session() as session:
            appeal = await appeals.file(
                session, user, kind, text, flag_id=ids["flag_id"], match_id=ids["match_id"],
                submission_id=ids["submission_id"], settings=services.settings,
                log=services.logsink,
            )  # fmt: skip
    except UserError as exc:
        if exc.status == 404:
            raise
        message = translate(exc.key, locale, **exc.params)
        async with services.db.reading() as session:
            told = await _about(session, kind, target_id)
        decided = exc.params.get("id") if exc.key == "appeal_decided_before" else None
        return _new_page(
            request, kind, target_id, exc.status, error=message, text=text, about=told,
            decided_id=decided,
        )  # fmt: skip
    return RedirectResponse(f"/appeals/{appeal.id}", status_code=303)


async def _own(request: Request, appeal_id: int) -> dict[str, Any]:
    user = _player(request)
    async with services_of(request).db.reading() as session:
        appeal = await appeals.get(session, appeal_id, user)
        if appeal.user_id != user.id:  # operators read it on their own page
            raise UserError(404, "not_found")
        data = (await _with_decisions(session, [_appeal_json(appeal)]))[0]
        data["messages"] = [
            _message_json(m, names=None) for m in await appeals.thread(session, appeal.id)
        ]
    return data


@router.get("/api/appeals/{appeal_id}", tags=["appeals"])
async def my_appeal_json(request: Request, appeal_id: Id) -> dict[str, Any]:
    return await _own(request, appeal_id)


@router.get("/appeals/{appeal_id}", response_class=HTMLResponse, include_in_schema=False)
async def my_appeal_page(request: Request, appeal_id: Id) -> HTMLResponse:
    return render(
        request, "appeal.html", appeal=await _own(request, appeal_id), error=None, text="",
        max_text=appeals.MAX_TEXT,
    )  # fmt: skip


@router.post("/appeals/{appeal_id}/reply", include_in_schema=False)
async def my_appeal_reply(request: Request, appeal_id: Id) -> Response:
    user = _player(request)
    form = await form_of(request)
    text = _text(form)
    services = services_of(request)
    locale = locale_of(request)
    try:
        if not confirmed(form):
            await _own(request, appeal_id)  # 404 unless it is theirs
            appeals.check_text(text, minimum=1)
            return confirm_step(
                request, form, action=f"/appeals/{appeal_id}/reply",
                title=translate("appeals.reply_title", locale),
                facts=[translate("appeals.confirm_reply", locale)],
                back=f"/appeals/{appeal_id}#thread", staff_nav=False,
            )  # fmt: skip
        async with services.db.session() as session:
            await appeals.player_reply(session, appeal_id, user, text, log=services.logsink)
    except UserError as exc:
        if exc.status == 404:
            raise
        data = await _own(request, appeal_id)
        return render(
            request, "appeal.html", status_code=exc.status, appeal=data, text=text,
            error=translate(exc.key, locale, **exc.params), max_text=appeals.MAX_TEXT,
        )  # fmt: skip
    return RedirectResponse(f"/appeals/{appeal_id}#thread", status_code=303)


class AppealIn(BaseModel):
    kind: str = Field(max_length=16, description=f"One of: {', '.join(APPEAL_KINDS)}")
    text: str = Field(max_length=4 * appeals.MAX_TEXT)
    flag_id: BodyId | None = None
    match_id: BodyId | None = None
    submission_id: BodyId | None = None


@router.post("/api/appeals", status_code=201, tags=["appeals"])
async def file_appeal_json(request: Request, body: AppealIn) -> dict[str, Any]:
    """File an appeal about one's own flag decision, game or verdict. A banned player may:
    appealing is how a ban is questioned (a session still sends the CSRF header)."""
    user = _player(request)
    if getattr(request.state, "auth", "") == SESSION:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    services = services_of(request)
    async with services.db.session() as session:
        appeal = await appeals.file(
            session, user, body.kind, body.text, flag_id=body.flag_id, match_id=body.match_id,
            submission_id=body.submission_id, settings=services.settings, log=services.logsink,
        )  # fmt: skip
        return _appeal_json(appeal)


# --- the operators' pages ---------------------------------------------------------------


async def _queue(request: Request, assigned: str, status: str) -> list[dict[str, Any]]:
    user = require_operator(request)
    services = services_of(request)
    locale = locale_of(request)
    async with services.db.reading() as session:
        found = await appeals.queue(
            session, None, services.settings, status=status or None,
            assigned=assigned if assigned in FILTERS else appeals.ALL, operator_id=user.id,
        )  # fmt: skip
    rows = []
    for item in found:
        row = item.to_dict()
        row["left_text"] = left_text(item.seconds_left, locale)
        rows.append(row)
    return rows


@router.get("/api/ops/appeals", tags=["appeals"])
async def queue_json(
    request: Request, assigned: str = appeals.ALL, status: str = ""
) -> list[dict[str, Any]]:
    """Undecided appeals by time left to their next deadline, the most urgent first."""
    return await _queue(request, assigned, status)


@router.get("/ops/appeals", response_class=HTMLResponse, include_in_schema=False)
async def queue_page(
    request: Request, assigned: str = appeals.ALL, status: str = ""
) -> HTMLResponse:
    rows = await _queue(request, assigned, status)
    return render(
        request, "ops_appeals.html", rows=rows, ops_section="appeals",
        assigned=assigned if assigned in FILTERS else appeals.ALL, status=status,
        filters=FILTERS, statuses=appeals.PENDING,
    )  # fmt: skip


async def _ops_appeal(request: Request, appeal_id: int) -> dict[str, Any]:
    user = require_operator(request)
    services = services_of(request)
    async with services.db.reading() as session:
        appeal = await appeals.get(session, appeal_id, user)
        messages = await appeals.thread(session, appeal.id)
        staff = await appeals.staff(session)
        owner = await session.get(User, appeal.user_id)
        data = (await _with_decisions(session, [_appeal_json(appeal)]))[0]
    names = {u.id: u.nickname for u in staff}
    data["user"] = {"id": appeal.user_id, "nickname": owner.nickname if owner else "?"}
    data["assigned_to"] = appeal.assigned_to
    data["messages"] = [_message_json(m, names=names) for m in messages]
    data["staff"] = [{"id": u.id, "nickname": u.nickname} for u in staff]
    if appeal.status != "decided":
        next_one = appeals.deadline_of(
            appeal, datetime.now(UTC), services.settings.APPEAL_SLA_WARN_HOURS
        )
        data["deadline"] = {
            "which": next_one.which, "due": next_one.due,
            "seconds_left": round(next_one.seconds_left), "urgency": next_one.urgency,
            "text": left_text(next_one.seconds_left, locale_of(request)),
        }  # fmt: skip
    return data


@router.get("/api/ops/appeals/{appeal_id}", tags=["appeals"])
async def ops_appeal_json(request: Request, appeal_id: Id) -> dict[str, Any]:
    return await _ops_appeal(request, appeal_id)


@router.get("/ops/appeals/{appeal_id}", response_class=HTMLResponse, include_in_schema=False)
async def ops_appeal_page(request: Request, appeal_id: Id) -> HTMLResponse:
    data = await _ops_appeal(request, appeal_id)
    return _ops_page(request, data)


def _ops_page(
    request: Request,
    data: dict[str, Any],
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The operator's appeal page; after a refusal the sent form's text is kept."""
    return render(
        request, "ops_appeal.html", status_code=status_code, appeal=data,
        ops_section="appeals", error=error, form=form or {}, max_text=appeals.MAX_TEXT,
        sent=request.url.path.rsplit("/", 1)[-1] if form else "",
    )  # fmt: skip


async def _ops_error(
    request: Request, appeal_id: int, exc: UserError, form: dict[str, str]
) -> HTMLResponse:
    if exc.status == 404:
        raise exc
    data = await _ops_appeal(request, appeal_id)
    message = translate(exc.key, locale_of(request), **exc.params)
    return _ops_page(request, data, exc.status, message, form)


async def _check_own(request: Request, appeal_id: int, actor: User) -> Appeal:
    """The appeal (404 if none), refused with 403 when it is the operator's own."""
    async with services_of(request).db.reading() as session:
        appeal = await appeals.get(session, appeal_id, actor)
    if appeal.user_id == actor.id:
        raise UserError(403, "own_case")
    return appeal


@router.post("/ops/appeals/{appeal_id}/reply", include_in_schema=False)
async def ops_reply(request: Request, appeal_id: Id) -> Response:
    actor = require_operator(request)
    form = await form_of(request)
    text = _text(form)
    services = services_of(request)
    locale = locale_of(request)
    try:
        if not confirmed(form):
            await _check_own(request, appeal_id, actor)
            appeals.check_text(text, minimum=1)
            return confirm_step(
                request, form, action=f"/ops/appeals/{appeal_id}/reply",
                title=translate("appeals.reply_title", locale),
                facts=[translate("appeals.confirm_reply", locale)],
                back=f"/ops/appeals/{appeal_id}#thread",
            )  # fmt: skip
        async with services.db.session() as session:
            await appeals.reply(session, appeal_id, actor, text, log=services.logsink)
    except UserError as exc:
        return await _ops_error(request, appeal_id, exc, form)
    return RedirectResponse(f"/ops/appeals/{appeal_id}#thread", status_code=303)


def _assignee(form: dict[str, str], actor: User) -> int | None:
    """Who the form assigns to: the "assign to me" button, an operator's id, or "" for
    nobody; anything else (not an id: "²", 999999999999) is refused with 422."""
    if form.get("assign_me") == "yes":
        return actor.id
    chosen = form.get("operator", "").strip()
    if not chosen:
        return None
    operator_id = valid_id(chosen)
    if operator_id is None:
        raise UserError(422, "appeal_assignee_invalid")
    return operator_id


@router.post("/ops/appeals/{appeal_id}/assign", include_in_schema=False)
async def ops_assign(request: Request, appeal_id: Id) -> Response:
    """Assign to an operator by id, to oneself (`assign_me`), or to nobody ("")."""
    actor = require_operator(request)
    form = await form_of(request)
    services = services_of(request)
    locale = locale_of(request)
    try:
        operator_id = _assignee(form, actor)
        if not confirmed(form):
            await _check_own(request, appeal_id, actor)
            name = translate("appeals.unassigned", locale)
            if operator_id is not None:
                async with services.db.reading() as session:
                    chosen = await session.get(User, operator_id)
                if chosen is None or not is_staff(chosen):
                    raise UserError(422, "appeal_assignee_invalid")
                name = chosen.nickname
            return confirm_step(
                request, form, action=f"/ops/appeals/{appeal_id}/assign",
                title=translate("appeals.assign_title", locale),
                facts=[translate("appeals.confirm_assign", locale),
                       translate("appeals.confirm_assignee", locale, name=name)],
                back=f"/ops/appeals/{appeal_id}",
            )  # fmt: skip
        async with services.db.session() as session:
            await appeals.assign(session, appeal_id, operator_id, actor, log=services.logsink)
    except UserError as exc:
        return await _ops_error(request, appeal_id, exc, form)
    return RedirectResponse(f"/ops/appeals/{appeal_id}", status_code=303)


@router.post("/ops/appeals/{appeal_id}/decide", include_in_schema=False)
async def ops_decide(request: Request, appeal_id: Id) -> Response:
    """Decide, with the operator's message to the player, once confirmed."""
    actor = require_operator(request)
    form = await form_of(request)
    outcome, text = form.get("outcome", ""), _text(form)
    services = services_of(request)
    locale = locale_of(request)
    try:
        if not confirmed(form):
            appeal = await _check_own(request, appeal_id, actor)
            if outcome not in appeals.OUTCOMES:
                raise UserError(422, "appeal_outcome_invalid")
            appeals.check_text(text, minimum=decisions.REASON_MIN)
            chosen = translate(f"appeals.outcome.{outcome}", locale)
            facts = [
                translate("appeals.confirm_decide", locale),
                translate("appeals.confirm_outcome", locale, outcome=chosen),
            ]
            if outcome == GRANTED:
                facts.append(translate(f"appeals.grant_effect.{appeal.kind}", locale))
            return confirm_step(
                request, form, action=f"/ops/appeals/{appeal_id}/decide",
                title=translate("appeals.decide_title", locale), facts=facts,
                back=f"/ops/appeals/{appeal_id}",
            )  # fmt: skip
        async with services.db.session() as session:
            await appeals.decide(
                session, appeal_id, actor, outcome, text, log=services.logsink,
                outside=outside_of(request),
            )  # fmt: skip
    except UserError as exc:
        return await _ops_error(request, appeal_id, exc, form)
    return RedirectResponse(f"/ops/appeals/{appeal_id}", status_code=303)
