"""The avatar shop's pages: the catalogue by slot with prices and the player's balance, a
purchase confirmed on the page (no script needed: "Buy" opens the question, the answer is
a form), wearing and taking off; and the editor theme a player wears, as a stylesheet the
arena links to (so the arena's route need not know about the shop)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.progress import points
from codebattle.rewards import shop
from codebattle.services import services_of
from codebattle.web.render import locale_of, render
from codebattle.web.security import check_csrf, require_user

router = APIRouter()


def _now() -> datetime:
    return datetime.now(UTC)


async def _listing(session: AsyncSession, user: User, now: datetime, zone: Any) -> dict[str, Any]:
    """What the page shows: each slot's items with their state for this player."""
    mine = await shop.owned(session, user.id)
    worn = await shop.equipped(session, user.id)
    sold = await shop.sold(session)
    balance = await points.balance(session, user.id)
    day = shop.sale_day(now, zone)
    slots: dict[str, list[dict[str, Any]]] = {slot: [] for slot in shop.SLOTS}
    for found in shop.catalogue().values():
        if not found.on_sale(day) and found.code not in mine:
            continue  # out of season: shown to its owners only
        left = None if found.limit is None else max(0, found.limit - sold.get(found.code, 0))
        slots[found.slot].append(
            {
                "item": found,
                "owned": found.code in mine,
                "worn": worn.get(found.slot) == found.code,
                "on_sale": found.on_sale(day) and left != 0,
                "left": left,
                "short": max(0, found.price - balance),
            }
        )
    return {"slots": slots, "balance": balance}


async def _page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = require_user(request)
    services = services_of(request)
    async with services.db.reading() as session:
        listing = await _listing(session, user, _now(), services.settings.plan_zone)
    return render(request, "shop.html", status_code=status_code, **listing, **context)


@router.get("/shop", response_class=HTMLResponse, include_in_schema=False)
async def shop_page(
    request: Request,
    buy: str | None = None,
    bought: str | None = None,
    worn: str | None = None,
    off: str | None = None,
) -> HTMLResponse:
    """The shop; `buy` asks to confirm a purchase; `bought`, `worn`, `off` say what was done."""
    require_user(request)
    table = shop.catalogue()
    confirm = table.get(buy) if buy else None
    if buy and confirm is None:
        raise UserError(404, "shop.unknown_item")
    done = None
    if bought in table:
        done = translate("shop.done_bought", locale_of(request),
                         item=translate(table[bought].name_key, locale_of(request)))  # fmt: skip
    elif worn in table:
        done = translate("shop.done_worn", locale_of(request),
                         item=translate(table[worn].name_key, locale_of(request)))  # fmt: skip
    elif off in shop.SLOTS:
        done = translate("shop.done_off", locale_of(request))
    return await _page(
        request, confirm=confirm, request_key=secrets.token_urlsafe(12) if confirm else None,
        done=done, bought=table.get(bought or ""),
    )  # fmt: skip


@router.post("/shop/buy", include_in_schema=False)
async def buy_item(
    request: Request,
    item: str = Form(""),
    request_key: str = Form(""),
    csrf_token: str | None = Form(default=None),
) -> Response:
    """Buy once confirmed (the form of the confirm step). A refusal shows the shop again
    with the reason and its status (409 short of points or sold out, ...)."""
    user = require_user(request)
    check_csrf(request, csrf_token)
    services = services_of(request)
    try:
        async with services.db.session() as session:
            fresh = await session.get(User, user.id)
            assert fresh is not None
            await shop.buy(
                session, fresh, item[:64], _now(), request_key[:80],
                zone=services.settings.plan_zone,
            )  # fmt: skip
            await session.commit()
    except UserError as refused:
        if refused.status == 404 or refused.key == "shop.bad_request":
            raise
        message = translate(refused.key, locale_of(request), **refused.params)
        return await _page(
            request, status_code=refused.status, refusal=message, refusal_key=refused.key
        )
    return RedirectResponse(f"/shop?bought={item}#shop-done", status_code=303)


@router.post("/shop/wear", include_in_schema=False)
async def wear_item(
    request: Request,
    item: str = Form(""),
    csrf_token: str | None = Form(default=None),
) -> Response:
    user = require_user(request)
    check_csrf(request, csrf_token)
    found = shop.item(item[:64])
    async with services_of(request).db.session() as session:
        await shop.equip(session, user, found.slot, found.code)
        await session.commit()
    return RedirectResponse(f"/shop?worn={found.code}#shop-done", status_code=303)


@router.post("/shop/take-off", include_in_schema=False)
async def take_off(
    request: Request,
    slot: str = Form(""),
    csrf_token: str | None = Form(default=None),
) -> Response:
    user = require_user(request)
    check_csrf(request, csrf_token)
    async with services_of(request).db.session() as session:
        await shop.equip(session, user, slot[:16], None)
        await session.commit()
    return RedirectResponse(f"/shop?off={slot[:16]}#shop-done", status_code=303)


@router.get("/shop/theme.css", include_in_schema=False)
async def theme_css(request: Request) -> Response:
    """The editor theme the signed-in player wears, as CSS variables on `.shop-theme`
    (empty when none or nobody is signed in): linked from the arena."""
    user = getattr(request.state, "user", None)
    body = ""
    if user is not None:
        async with services_of(request).db.reading() as session:
            look = (await shop.looks(session, [user.id]))[user.id]
        if look.theme is not None:
            body = f".shop-theme{{{shop.item(look.theme).style()}}}\n"
    return Response(body, media_type="text/css", headers={"Cache-Control": "private, no-store"})
