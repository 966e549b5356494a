"""Plans and payments: the pricing page, checkout through the payment provider (PortOne, or
the built-in fake), the page the payment window returns to, the provider's webhook, and
cancelling renewal. The rules are accounts.billing's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from codebattle.accounts import billing, plans
from codebattle.accounts.models import User
from codebattle.config import Settings
from codebattle.errors import UserError
from codebattle.integrations import portone
from codebattle.services import services_of
from codebattle.web.render import render
from codebattle.web.security import CSP, check_csrf, current_user, require_user

router = APIRouter()


@dataclass(frozen=True)
class PlanRow:
    name: str  # "free" | "basic" | "pro"
    games: int | None  # a day; None: unlimited
    room: int
    review: bool
    price: int  # KRW a period; 0 for free


def plan_rows(settings: Settings) -> list[PlanRow]:
    return [
        PlanRow(
            name=plan,
            games=plans.daily_game_limit(settings, plan),
            room=plans.room_size_limit(settings, plan),
            review=plans.review_allowed(settings, plan),
            price={"free": 0, "basic": settings.BASIC_PRICE_KRW, "pro": settings.PRO_PRICE_KRW}[
                plan
            ],
        )
        for plan in plans.PLANS
    ]


def _client(settings: Settings) -> portone.PortOne:
    client = portone.client_for(settings)
    if client is None:
        raise UserError(503, "checkout_unavailable")
    return client


@router.get("/pricing", response_class=HTMLResponse, include_in_schema=False)
async def pricing_page(request: Request) -> HTMLResponse:
    settings = services_of(request).settings
    user = current_user(request)
    now = datetime.now(UTC)
    current = plans.effective_plan(user, now) if user is not None else None
    until = (
        billing.resumed_until(user, current, settings.PLAN_PERIOD_DAYS, now)
        if user is not None and current is not None
        else None
    )
    response = render(
        request,
        "pricing.html",
        rows=plan_rows(settings),
        current=current,
        resumable=until is not None,
        resume_until=_day(until, settings),
        period_days=settings.PLAN_PERIOD_DAYS,
        available=portone.checkout_available(settings),
        test_mode=settings.fake_payments,
    )
    # Never from the browser's cache: Back after paying must show the plan as it is now.
    response.headers["cache-control"] = "no-store"
    return response


def _day(moment: datetime | None, settings: Settings) -> str:
    """A date as the site shows it (in PLAN_TIMEZONE); "" for None."""
    return "" if moment is None else moment.astimezone(settings.plan_zone).strftime("%Y-%m-%d")


REFUSALS = ("checkout_current_plan", "checkout_downgrade")  # shown on a page of checkout's own


PORTONE_HOSTS = "https://*.portone.io https://*.iamport.co"  # the SDK's calls and frames


def _checkout_csp(sdk_url: str, extra: str) -> str:
    """The site's CSP with the provider's SDK allowed on the checkout page only: its
    script, the calls and frames its payment window makes (PortOne's own hosts, old and
    new), and `extra` (PORTONE_CSP_SOURCES: the payment providers' pages)."""
    parts = urlsplit(sdk_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin.endswith(".portone.io"):
        origin += " " + PORTONE_HOSTS
    if extra:
        origin += " " + extra
    return (
        CSP.replace("script-src 'self'", f"script-src 'self' {origin}")
        .replace("connect-src 'self'", f"connect-src 'self' {origin}")
        .replace("frame-ancestors 'none'", f"frame-src {origin}; frame-ancestors 'none'")
    )


@router.post("/checkout/{plan}", response_class=HTMLResponse, include_in_schema=False)
async def checkout(
    request: Request, plan: str, csrf_token_field: str = Form("", alias="csrf_token")
) -> HTMLResponse:
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    services = services_of(request)
    settings = services.settings
    browser = portone.browser_settings(settings)
    if browser is None:
        raise UserError(503, "checkout_unavailable")
    if plan not in plans.PAID_PLANS:
        raise UserError(404, "plan_unknown", plan=plan[:20], known="basic, pro")
    now = datetime.now(UTC)
    async with services.db.session() as session:
        stored = await session.get(User, user.id)
        until = (
            billing.resumed_until(stored, plan, settings.PLAN_PERIOD_DAYS, now)
            if stored is not None
            else None
        )
        try:
            payment = await billing.start_checkout(
                session,
                user,
                plan,
                basic=settings.BASIC_PRICE_KRW,
                pro=settings.PRO_PRICE_KRW,
                now=now,
            )
        except UserError as refused:
            if refused.key not in REFUSALS:
                raise
            return _refusal(request, refused)
    redirect = settings.BASE_URL + "/checkout/complete?" + urlencode({"payment": payment.id})
    locale = getattr(request.state, "locale", "ko")
    sdk_request = {
        "storeId": browser.store_id,
        "channelKey": browser.channel_key,
        "billingKeyMethod": "CARD",
        "issueId": payment.id,
        "issueName": billing.order_name(plan, settings.PLAN_PERIOD_DAYS),
        "displayAmount": payment.amount,
        "currency": payment.currency,
        "customer": {"customerId": billing.customer_id(user.id)},
        "redirectUrl": redirect,
        "locale": "EN_US" if locale == "en" else "KO_KR",
    }
    response = render(
        request,
        "checkout.html",
        plan=plan,
        payment=payment,
        period_days=settings.PLAN_PERIOD_DAYS,
        sdk_url=browser.sdk_url,
        sdk_request=sdk_request,
        redirect=redirect,
        test_mode=settings.fake_payments,
        resume_until=_day(until, settings),
    )
    response.headers["content-security-policy"] = _checkout_csp(
        browser.sdk_url, settings.PORTONE_CSP_SOURCES
    )
    response.headers["cache-control"] = "no-store"
    return response


def _refusal(request: Request, refused: UserError) -> HTMLResponse:
    """Checkout refused (the plan the user is on, or a lower one): said with the plans'
    names as the site writes them, with the way to settings, where renewal is managed."""
    response = render(
        request,
        "checkout_result.html",
        status_code=refused.status,
        outcome=None,
        refusal=refused.key,
        plan=str(refused.params.get("plan", "")),
        current=str(refused.params.get("current", "")),
        ends_at=None,
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/checkout/complete", response_class=HTMLResponse, include_in_schema=False)
async def checkout_complete(
    request: Request,
    payment: str = "",
    billingKey: str | None = None,  # noqa: N803 - the provider's query parameter
    code: str | None = None,
    message: str | None = None,
) -> HTMLResponse:
    user = require_user(request)
    services = services_of(request)
    settings = services.settings
    if not payment or len(payment) > 64:
        raise UserError(404, "payment_unknown")
    client = _client(settings)
    async with services.db.session() as session:
        outcome = await billing.complete_checkout(
            session,
            client,
            user,
            payment,
            billing_key=billingKey[:200] if billingKey else None,
            code=code[:100] if code else None,
            message=message[:200] if message else None,
            period_days=settings.PLAN_PERIOD_DAYS,
            now=datetime.now(UTC),
        )
        stored = await session.get(User, user.id)
    response = render(
        request,
        "checkout_result.html",
        status_code=200,
        outcome=outcome,
        ends_at=stored.plan_ends_at if stored is not None else None,
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/payments/webhook", include_in_schema=False)
async def webhook(request: Request) -> Response:
    """PortOne's webhook (register BASE_URL/payments/webhook): no session, no CSRF; the
    signature is the only credential, and the payment is read again from the provider."""
    services = services_of(request)
    settings = services.settings
    client = portone.client_for(settings)
    if client is None:
        return JSONResponse({"ok": False, "result": "checkout closed"}, status_code=503)
    try:
        payload = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(400, "webhook_invalid") from None
    async with services.db.session() as session:
        result = await billing.handle_webhook(
            session,
            client,
            secret=portone.webhook_secret(settings),
            payload=payload,
            headers=dict(request.headers),
            period_days=settings.PLAN_PERIOD_DAYS,
            now=datetime.now(UTC),
        )
    return JSONResponse({"ok": True, "result": result})


@router.post("/settings/plan/cancel", include_in_schema=False)
async def cancel_plan(
    request: Request, csrf_token_field: str = Form("", alias="csrf_token")
) -> Response:
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    services = services_of(request)
    async with services.db.session() as session:
        await billing.cancel_renewal(session, portone.client_for(services.settings), user)
    return RedirectResponse("/settings?plan=cancelled#plan", status_code=303)
