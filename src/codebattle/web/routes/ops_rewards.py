"""The operators' approval queue for gift cards: pending exchanges oldest first, each with
what an operator decides on (the user's age band, this month's won, whether the account is
still in good standing, a first exchange marked), approved or rejected through the
dashboard's confirm step; and the cards issued lately, each of which an operator may
cancel (a card not yet used: the provider cancels it, the points go back). Operators and
admins only (404 for anyone else); never on their own exchange (403); decided once (409);
audited (rewards/giftcards.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.integrations.giftishow import provider_for
from codebattle.rewards import giftcards
from codebattle.services import services_of
from codebattle.web.forms import form_of
from codebattle.web.ids import Id
from codebattle.web.ops_forms import (
    MAX_REASON,
    confirm_step,
    confirmed,
    reason_of,
    require_operator,
)
from codebattle.web.render import locale_of, render

router = APIRouter(include_in_schema=False)
DECISIONS = ("approve", "reject")
DONE = (*DECISIONS, "cancel")


@router.get("/ops/rewards", response_class=HTMLResponse)
async def queue_page(request: Request, done: str = "") -> HTMLResponse:
    require_operator(request)
    services = services_of(request)
    async with services.db.reading() as session:
        rows = await giftcards.waiting(session, services.settings, datetime.now(UTC))
        issued = await giftcards.recently_issued(session)
    return render(
        request, "ops_rewards.html", rows=rows, issued=issued, ops_section="rewards",
        max_reason=MAX_REASON, done=done if done in DONE else "",
    )  # fmt: skip


@router.post("/ops/rewards/{exchange_id}/decision")
async def decide(request: Request, exchange_id: Id) -> Response:
    """Approve (a note optional) or reject (a reason required: the player reads it)."""
    actor = require_operator(request)
    form = await form_of(request)
    decision = form.get("decision", "")
    if decision not in DECISIONS:
        raise UserError(422, "gift.decision_unknown")
    note = reason_of(form) if decision == "reject" else form.get("reason", "").strip()
    if len(note) > MAX_REASON:
        raise UserError(422, "ops.reason_too_long", limit=MAX_REASON)
    if not confirmed(form):
        locale = locale_of(request)
        return confirm_step(
            request, form, action=f"/ops/rewards/{exchange_id}/decision",
            title=translate(f"gift.ops.{decision}", locale),
            facts=[translate(f"gift.ops.confirm_{decision}", locale, id=exchange_id)]
            + ([translate("ops.confirm.reason", locale, reason=note)] if note else []),
            back="/ops/rewards",
        )  # fmt: skip
    now = datetime.now(UTC)
    services = services_of(request)
    async with services.db.session() as session:
        if decision == "approve":
            await giftcards.approve(session, actor, exchange_id, note, now, services.settings)
        else:
            await giftcards.reject(session, actor, exchange_id, note, now)
    return RedirectResponse(f"/ops/rewards?done={decision}#gift-queue", status_code=303)


@router.post("/ops/rewards/{exchange_id}/cancel")
async def cancel(request: Request, exchange_id: Id) -> Response:
    """Cancel an issued card not yet used (a reason required: the player reads it)."""
    actor = require_operator(request)
    form = await form_of(request)
    note = reason_of(form)
    if not confirmed(form):
        locale = locale_of(request)
        return confirm_step(
            request, form, action=f"/ops/rewards/{exchange_id}/cancel",
            title=translate("gift.ops.cancel", locale),
            facts=[translate("gift.ops.confirm_cancel", locale, id=exchange_id),
                   translate("ops.confirm.reason_shown", locale, reason=note)],
            back="/ops/rewards#gift-issued",
        )  # fmt: skip
    services = services_of(request)
    provider = provider_for(services.settings)
    if provider is None:
        raise UserError(409, "gift.closed")
    try:
        async with services.db.session() as session:
            await giftcards.cancel(session, actor, exchange_id, note, datetime.now(UTC), provider)
    finally:
        await provider.aclose()
    return RedirectResponse("/ops/rewards?done=cancel#gift-issued", status_code=303)
