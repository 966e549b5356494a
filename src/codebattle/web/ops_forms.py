"""The operators' forms: who may use them (operators and admins; anyone else gets 404),
their CSRF check, and their confirm step. Every state-changing form is confirmed: with JS
a <dialog> (static/ops.js) adds `confirm=yes`; without it, the server answers a form that
lacks it with a page that asks again (ops_confirm.html) and changes nothing. The players'
appeal forms use the same step (`staff_nav=False`: no dashboard navigation)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from codebattle.accounts.models import User
from codebattle.accounts.roles import is_staff
from codebattle.errors import UserError
from codebattle.ops import decisions
from codebattle.ops.decisions import REASON_MAX
from codebattle.progress.seasons import SeasonRules
from codebattle.services import services_of
from codebattle.web.render import render
from codebattle.web.security import current_user, store_of

MAX_REASON = REASON_MAX  # what ops.decisions keeps; the textareas' maxlength


def require_operator(request: Request) -> User:
    """The signed-in operator or admin; anyone else is told the page does not exist."""
    user = current_user(request)
    if user is None or not is_staff(user):
        raise UserError(404, "not_found")
    return user


def outside_of(request: Request) -> decisions.Outside:
    """Who hears of a decision after its commit (fair play's and appeals' alike): live game
    pages, a banned player's sessions, the season's rules for its points."""
    services = services_of(request)
    return decisions.Outside(
        pubsub=services.pubsub,
        sessions=store_of(request),
        rules=SeasonRules.of(services.settings),
    )


def number_of(value: str | None, low: int, high: int) -> int | None:
    """A whole number in low..high from a form or query string, else None. ASCII digits
    only: "²".isdigit() is True but int("²") fails, and a long digit string is no number
    anyone meant."""
    text = (value or "").strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def reason_of(form: dict[str, str]) -> str:
    """The form's reason, required (it is shown to the player or kept in the audit log)."""
    reason = form.get("reason", "").replace("\r\n", "\n").strip()
    if not reason:
        raise UserError(422, "ops.reason_required")
    if len(reason) > MAX_REASON:
        raise UserError(422, "ops.reason_too_long", limit=MAX_REASON)
    return reason


def confirmed(form: dict[str, str]) -> bool:
    return form.get("confirm") == "yes"


def confirm_step(
    request: Request,
    form: dict[str, str],
    *,
    action: str,
    title: str,
    facts: list[str],
    back: str,
    staff_nav: bool = True,
) -> HTMLResponse:
    """The page that asks "are you sure?" for a form sent without `confirm=yes`: the same
    fields, hidden, with the confirmation added; `facts` say what will happen."""
    fields = {k: v for k, v in form.items() if k not in ("csrf_token", "confirm")}
    return render(
        request, "ops_confirm.html", action=action, title=title, facts=facts, fields=fields,
        back=back, ops_section="", staff_nav=staff_nav,
    )  # fmt: skip
