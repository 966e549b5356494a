"""The player's points and gift cards: /points (the balance, a debt if any, the history a
page at a time with each line's reason in words and a link to what it was for, how to
earn) and /rewards/giftcards (the cards for points, this month's cap left, the request
form, the player's exchanges). The rules are rewards/giftcards.py's; a refusal is shown
on the form again with its reason and a 4xx status."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.progress import earning, points
from codebattle.rewards import giftcards
from codebattle.services import services_of
from codebattle.web.forms import form_of
from codebattle.web.ids import before_of, valid_id
from codebattle.web.render import locale_of, render
from codebattle.web.security import require_user

router = APIRouter(include_in_schema=False)
PAGE = 50
# Reasons the history names in words (`points.reason.<reason>`); others read as "other".
REASONS = (
    "win", "draw", "first_win", "room_podium", "achievement", "season", "shop",
    giftcards.REASON_HOLD, giftcards.REASON_REFUND, points.REVERSAL,
)  # fmt: skip


def _link(line: points.Line, nickname: str) -> tuple[str, str] | None:
    """Where a history line points (the game, room, exchange, item...) and its label key."""
    params = line.params
    if "exchange" in params:
        return f"/rewards/giftcards#exchange-{params['exchange']}", "points.link.exchange"
    if line.match_id is not None or "match" in params:
        return f"/matches/{line.match_id or params['match']}", "points.link.game"
    if "room" in params:
        return f"/rooms/{params['room']}", "points.link.room"
    if "item" in params:
        return "/shop", "points.link.item"
    if "achievement" in params or line.reason == "achievement":
        return f"/users/{nickname}#achievements", "points.link.achievement"
    return None


def _row(line: points.Line, nickname: str, locale: str) -> dict[str, Any]:
    reason = line.reason if line.reason in REASONS else "other"
    return {
        "id": line.transaction_id,
        "at": line.at,
        "reason": translate(f"points.reason.{reason}", locale),
        "amount": line.amount,
        "owed": line.owed,
        "link": _link(line, nickname),
    }


@router.get("/points", response_class=HTMLResponse)
async def points_page(request: Request, before: str = "") -> HTMLResponse:
    user = require_user(request)
    before_id = before_of(before)
    async with services_of(request).db.reading() as session:
        have = await points.balance(session, user.id)
        owed = await points.debt(session, user.id)
        lines = await points.history(session, user.id, limit=PAGE + 1, before=before_id)
    locale = locale_of(request)
    rows = [_row(line, user.nickname, locale) for line in lines[:PAGE]]
    older = rows[-1]["id"] if len(lines) > PAGE else None
    rules = [r for r in earning.rules().values() if r.points or r.places]
    return render(
        request, "points.html", balance=have, debt=owed, rows=rows, older=older,
        paged=before_id is not None, rules=rules,
    )  # fmt: skip


async def _giftcards_context(
    session: AsyncSession, request: Request, user: User, now: datetime
) -> dict[str, Any]:
    settings = services_of(request).settings
    refused = await giftcards.refusal(session, user, now, settings)
    goods = [
        {"card": card, "points": giftcards.price(card, settings),
         "too_big": card.won > settings.REWARD_MAX_CARD_WON}
        for card in giftcards.catalogue().values()
    ]  # fmt: skip
    return {
        "goods": goods,
        "balance": await points.balance(session, user.id),
        "cap": giftcards.monthly_cap(user, now, settings),
        "cap_left": await giftcards.cap_left(session, user, now, settings),
        "minor": giftcards.is_minor(user, now, settings),
        "max_card": settings.REWARD_MAX_CARD_WON,
        "approval_over": settings.REWARD_APPROVAL_OVER_WON,
        "refusal": refused,
        "open": giftcards.open_for_exchanges(settings),
        "exchanges": await giftcards.of_user(session, user.id),
        "masked": giftcards.masked,
        "request_key": secrets.token_urlsafe(18),
    }


async def _giftcards_page(
    request: Request,
    user: User,
    *,
    status: int = 200,
    error: UserError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    now = datetime.now(UTC)
    async with services_of(request).db.reading() as session:
        context = await _giftcards_context(session, request, user, now)
    message = translate(error.key, locale_of(request), **error.params) if error else ""
    done = valid_id(request.query_params.get("done", ""))
    return render(
        request, "giftcards.html", status_code=status, error=message,
        error_key=error.key if error else "", form=form or {}, done=done, **context,
    )  # fmt: skip


@router.get("/rewards/giftcards", response_class=HTMLResponse)
async def giftcards_page(request: Request) -> HTMLResponse:
    user = require_user(request)
    return await _giftcards_page(request, user)


@router.post("/rewards/giftcards")
async def request_giftcard(request: Request) -> Response:
    """Ask for a card. CSRF is checked first (403); any other refusal shows the form again
    with its reason and its status (the phone number kept in the field)."""
    user = require_user(request)
    form = await form_of(request, by_token=False)  # points for a card: the pages only
    services = services_of(request)
    try:
        async with services.db.session() as session:
            exchange = await giftcards.request(
                session, user, form.get("goods", ""), form.get("phone", ""),
                form.get("consent") == "yes", form.get("request_key", ""),
                datetime.now(UTC), services.settings,
            )  # fmt: skip
    except UserError as exc:
        kept = {"goods": form.get("goods", "")[:32], "phone": form.get("phone", "")[:40]}
        return await _giftcards_page(request, user, status=exc.status, error=exc, form=kept)
    return RedirectResponse(
        f"/rewards/giftcards?done={exchange.id}#exchange-{exchange.id}", status_code=303
    )
