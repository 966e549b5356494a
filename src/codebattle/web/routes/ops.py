"""The operators' dashboard over HTTP: the home page (what needs attention now), the
users pages (search, one user's file, changing a plan or a role, lifting a sanction), the
audit log and the feedback inbox. Operators and admins only; everyone else gets 404, as
for a page that does not exist. The flag pages are web/routes/fairplay.py's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from codebattle.accounts import audit, feedback, plans, sanctions
from codebattle.accounts import service as accounts
from codebattle.accounts.models import AuditEntry, Sanction, User
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.ops import overview, people
from codebattle.services import services_of
from codebattle.web import audit_text
from codebattle.web.forms import form_of
from codebattle.web.ids import Id, before_of
from codebattle.web.ops_forms import (
    MAX_REASON,
    confirm_step,
    confirmed,
    number_of,
    reason_of,
    require_operator,
)
from codebattle.web.render import locale_of, render

router = APIRouter(include_in_schema=False)
MAX_PLAN_DAYS = 3650


def _audit_row(request: Request) -> Callable[[AuditEntry, dict[int, str]], audit_text.Row]:
    """The audit table's words for an entry, in the reader's language and the site's zone."""
    return audit_text.describer(locale_of(request), services_of(request).settings.plan_zone)


@router.get("/ops", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    require_operator(request)
    services = services_of(request)
    async with services.db.reading() as session:
        found = await overview.attention(
            session, warn_hours=services.settings.APPEAL_SLA_WARN_HOURS
        )
    return render(request, "ops_home.html", attention=found, ops_section="home")


# Users


@router.get("/ops/users", response_class=HTMLResponse)
async def users_page(request: Request, q: str = "") -> HTMLResponse:
    require_operator(request)
    query = q.strip()[:320]
    async with services_of(request).db.reading() as session:
        found = await people.search_users(session, query) if query else []
    return render(
        request, "ops_users.html", q=query, users=found, limit=people.SEARCH_LIMIT,
        ops_section="users",
    )  # fmt: skip


async def _user_page(
    request: Request,
    user_id: int,
    status_code: int = 200,
    notice: str = "",
    kept: tuple[str, str] = ("", ""),
) -> HTMLResponse:
    """The user's file; `kept` is (which form, its reason) when that form is shown again
    with a notice, so the operator's words are not lost."""
    actor = require_operator(request)
    async with services_of(request).db.reading() as session:
        file = await people.user_file(session, user_id)
        if file is not None:  # the users an assignment names, besides actors and subjects
            missing = audit_text.user_ids(file["audit"]) - set(file["names"])
            file["names"] = {**file["names"], **await audit.nicknames(session, missing)}
    if file is None:
        raise UserError(404, "not_found")
    return render(
        request, "ops_user.html", status_code=status_code, file=file, person=file["user"],
        roles=accounts.ROLES, plans=plans.PLANS, notice=notice, now=datetime.now(UTC),
        may_change_role=actor.role == "admin" and actor.id != user_id,
        done=request.query_params.get("done", ""), ops_section="users",
        max_reason=MAX_REASON, kept_form=kept[0], kept_reason=kept[1],
        audit_row=_audit_row(request),
    )  # fmt: skip


async def _reason(
    request: Request, user_id: int, form: dict[str, str], which: str
) -> str | HTMLResponse:
    """The form's reason, or the user's page again with the refusal and the text kept."""
    try:
        return reason_of(form)
    except UserError as error:
        notice = translate(error.key, locale_of(request), **error.params)
        kept = (which, form.get("reason", ""))
        return await _user_page(request, user_id, error.status, notice=notice, kept=kept)


def _not_own(actor: User, user_id: int) -> None:
    """Staff never change their own plan or lift their own sanction: another operator does."""
    if actor.id == user_id:
        raise UserError(403, "own_case")


@router.get("/ops/users/{user_id}", response_class=HTMLResponse)
async def user_page(request: Request, user_id: Id) -> HTMLResponse:
    return await _user_page(request, user_id)


async def _person(request: Request, user_id: int) -> User:
    async with services_of(request).db.reading() as session:
        person = await session.get(User, user_id)
    if person is None:
        raise UserError(404, "not_found")
    return person


@router.post("/ops/users/{user_id}/plan")
async def change_plan(request: Request, user_id: Id) -> Response:
    """Put the user on a plan (until N days from now, or open-ended), audited."""
    actor = require_operator(request)
    form = await form_of(request)
    _not_own(actor, user_id)
    person = await _person(request, user_id)
    plan = form.get("plan", "")
    if plan not in plans.PLANS:
        raise UserError(422, "plan_unknown", plan=plan, known=", ".join(plans.PLANS))
    given = form.get("days", "").strip()
    days = number_of(given, 1, MAX_PLAN_DAYS) if given else None
    if given and days is None:
        raise UserError(422, "ops.plan_days_invalid", limit=MAX_PLAN_DAYS)
    reason = await _reason(request, user_id, form, "plan")
    if isinstance(reason, HTMLResponse):
        return reason
    locale = locale_of(request)
    if not confirmed(form):
        until = translate("ops.users.plan_days_n", locale, days=days) if days else ""
        return confirm_step(
            request, form, action=f"/ops/users/{user_id}/plan",
            title=translate("ops.users.plan_change", locale),
            facts=[translate("ops.confirm.plan", locale, name=person.nickname,
                             plan=translate("plans_name_" + plan, locale),
                             until=until or translate("ops.users.plan_open", locale)),
                   translate("ops.confirm.reason", locale, reason=reason)],
            back=f"/ops/users/{user_id}",
        )  # fmt: skip
    now = datetime.now(UTC)
    ends_at = now + timedelta(days=days) if days and plan != "free" else None
    async with services_of(request).db.session() as session:
        await plans.change_plan(
            session, user_id, plan, ends_at=ends_at, source="grant", actor_id=actor.id,
            actor_label=actor.nickname, reason=reason, now=now, extend=False,
        )  # fmt: skip
        await session.commit()
    return RedirectResponse(f"/ops/users/{user_id}?done=plan", status_code=303)


@router.post("/ops/users/{user_id}/role")
async def change_role(request: Request, user_id: Id) -> Response:
    """Give the user a role: admins only, and never their own (an admin cannot lock
    themselves out or raise themselves); audited by accounts.set_role."""
    actor = require_operator(request)
    form = await form_of(request)
    if actor.role != "admin":
        raise UserError(403, "ops.role_admins_only")
    if actor.id == user_id:
        raise UserError(403, "ops.role_not_own")
    person = await _person(request, user_id)
    role = form.get("role", "")
    if role not in accounts.ROLES:
        raise UserError(422, "role_unknown")
    reason = await _reason(request, user_id, form, "role")
    if isinstance(reason, HTMLResponse):
        return reason
    locale = locale_of(request)
    if not confirmed(form):
        return confirm_step(
            request, form, action=f"/ops/users/{user_id}/role",
            title=translate("ops.users.role_change", locale),
            facts=[translate("ops.confirm.role", locale, name=person.nickname,
                             old=translate("ops.role." + person.role, locale),
                             new=translate("ops.role." + role, locale)),
                   translate("ops.confirm.reason", locale, reason=reason)],
            back=f"/ops/users/{user_id}",
        )  # fmt: skip
    async with services_of(request).db.session() as session:
        await accounts.set_role(session, person.nickname, role, reason=reason, actor=actor)
    return RedirectResponse(f"/ops/users/{user_id}?done=role", status_code=303)


@router.post("/ops/users/{user_id}/sanctions/{sanction_id}/lift")
async def lift_sanction(request: Request, user_id: Id, sanction_id: Id) -> Response:
    """End a sanction early (accounts.sanctions.lift, audited there)."""
    actor = require_operator(request)
    form = await form_of(request)
    async with services_of(request).db.reading() as session:
        sanction = await session.get(Sanction, sanction_id)
    if sanction is None or sanction.user_id != user_id:
        raise UserError(404, "not_found")
    _not_own(actor, user_id)
    reason = await _reason(request, user_id, form, f"lift-{sanction_id}")
    if isinstance(reason, HTMLResponse):
        return reason
    locale = locale_of(request)
    if not confirmed(form):
        return confirm_step(
            request, form, action=f"/ops/users/{user_id}/sanctions/{sanction_id}/lift",
            title=translate("ops.users.lift", locale),
            facts=[translate("ops.confirm.lift", locale, id=sanction_id,
                             kind=translate("ops.sanction." + sanction.kind, locale)),
                   translate("ops.confirm.reason", locale, reason=reason)],
            back=f"/ops/users/{user_id}",
        )  # fmt: skip
    async with services_of(request).db.session() as session:
        await sanctions.lift(session, sanction_id, actor.id, reason, datetime.now(UTC))
        await session.commit()
    return RedirectResponse(f"/ops/users/{user_id}?done=lift", status_code=303)


# The audit log and the feedback inbox


@router.get("/ops/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    actor: str = "",
    subject: str = "",
    action: str = "",
    target: str = "",
    before: str = "",
) -> HTMLResponse:
    """The audit log, newest first, filtered; "older" pages on with `before`. Read only:
    the app has no way to change an entry (and the database refuses it)."""
    require_operator(request)
    before_id = before_of(before)
    limit = 50
    filters = {
        "actor": actor.strip()[:64], "subject": subject.strip()[:64],
        "action": action.strip()[:32], "target": target.strip()[:64],
    }  # fmt: skip
    entries: list[AuditEntry] = []
    names: dict[int, str] = {}
    unknown = ""
    async with services_of(request).db.reading() as session:
        ids: dict[str, int | None] = {}
        for key in ("actor", "subject"):
            ids[key] = None
            if filters[key]:
                found = await people.user_by_nickname(session, filters[key])
                if found is None:
                    unknown = filters[key]
                else:
                    ids[key] = found.id
        if not unknown:
            entries = await audit.search(
                session, actor_id=ids["actor"], action=filters["action"] or None,
                target=filters["target"] or None, subject_user_id=ids["subject"],
                before_id=before_id, limit=limit,
            )  # fmt: skip
            names = await audit.nicknames(session, audit_text.user_ids(entries))
    older = entries[-1].id if len(entries) == limit else None
    return render(
        request, "ops_audit.html", entries=entries, names=names, filters=filters,
        unknown=unknown, older=older, paged=before_id is not None, ops_section="audit",
        audit_row=_audit_row(request),
    )  # fmt: skip


@router.get("/ops/feedback", response_class=HTMLResponse)
async def feedback_page(
    request: Request, category: str = "", before: str = "", state: str = "open"
) -> HTMLResponse:
    require_operator(request)
    before_id = before_of(before)
    chosen = category if category in feedback.CATEGORIES else ""
    shown = state if state in overview.FEEDBACK_STATES else "open"
    async with services_of(request).db.reading() as session:
        items, older = await overview.feedback_page(session, chosen or None, before_id, state=shown)
    return render(
        request, "ops_feedback.html", items=items, older=older, category=chosen,
        categories=feedback.CATEGORIES, paged=before_id is not None, ops_section="feedback",
        state=shown, states=overview.FEEDBACK_STATES,
    )  # fmt: skip


@router.post("/ops/feedback/{feedback_id}/handled")
async def mark_feedback(request: Request, feedback_id: Id) -> Response:
    """Mark a message handled (`handled=yes`) or open again (`handled=no`); confirmed and
    audited like every dashboard action."""
    actor = require_operator(request)
    form = await form_of(request)
    handled = form.get("handled", "yes") != "no"
    if not confirmed(form):
        locale = locale_of(request)
        title = translate("ops.feedback.mark_handled" if handled else "ops.feedback.reopen", locale)
        return confirm_step(
            request, form, action=f"/ops/feedback/{feedback_id}/handled", title=title,
            facts=[translate("ops.feedback.confirm_mark", locale, id=feedback_id)],
            back="/ops/feedback",
        )  # fmt: skip
    async with services_of(request).db.session() as session:
        await feedback.mark(session, feedback_id, actor, handled, datetime.now(UTC))
        await session.commit()
    back = "open" if handled else "handled"
    return RedirectResponse(f"/ops/feedback?state={back}#feedback-items", status_code=303)
