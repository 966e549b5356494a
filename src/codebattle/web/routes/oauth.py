"""Sign-in with Google, GitHub, Kakao and Naver, and linking them from the settings page.

GET /auth/{provider}/login?next=   sends the browser to the provider (sign-in)
POST /settings/identities/{p}/link  the same for a signed-in user, to add the provider
GET /auth/{provider}/callback       back from the provider: sign in, start a first sign-in
                                    (/welcome), offer the account with the same address, or
                                    link; every sign-in failure is a page of its own
                                    (auth_error.html), a link's success or failure goes back
                                    to the settings page with a notice (?notice=&provider=)
POST /settings/identities/{p}/unlink  remove a provider (never the last way to sign in)

The redirect URL registered at each provider is BASE_URL/auth/<provider>/callback.

What a flow is for (sign-in or link, where to go next, who links) is kept in the session
under the flow's `state`, a few flows at most: a second tab, or a cross-site GET of
/auth/<p>/login, starts a flow of its own and never turns a link in progress into a
sign-in. Starting a flow changes nothing else: a signed-in person stays signed in until
a callback succeeds. Starting flows and callbacks are rate limited per client address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from codebattle.accounts import identities
from codebattle.accounts.providers import Profile, ProfileError
from codebattle.config import Settings
from codebattle.errors import UserError
from codebattle.integrations.oauth import OAuthClients, OAuthFailure
from codebattle.services import services_of
from codebattle.web.render import render
from codebattle.web.routes.accounts import IDENTITY_REFUSED, safe_next
from codebattle.web.security import check_csrf, current_user, require_user
from codebattle.web.sessions import signed_in_redirect, start_pending, start_session

log = structlog.get_logger(__name__)
router = APIRouter()
SIGN_IN, LINK = "signin", "link"
OAUTH_PER_MINUTE = 30  # flows started, and callbacks, per client address (each)
SETTINGS_SECTION = "/settings#sign-in-methods"


def back_to_settings(provider: str, notice: str) -> RedirectResponse:
    """To the settings page's sign-in methods, with a notice it shows (accounts.settings_notice)."""
    query = urlencode({"notice": notice, "provider": provider})
    return RedirectResponse(f"/settings?{query}#sign-in-methods", status_code=303)


def clients_of(request: Request) -> OAuthClients:
    """The app's provider clients, made on first use from its settings."""
    state = request.app.state
    clients = getattr(state, "oauth_clients", None)
    if not isinstance(clients, OAuthClients):
        clients = OAuthClients(services_of(request).settings)
        state.oauth_clients = clients
    return clients


def offered(request: Request, provider: str) -> str:
    """The provider, if this site offers it; else 404."""
    if provider not in services_of(request).settings.oauth_providers:
        raise UserError(404, "not_found")
    return provider


def callback_url(settings: Settings, provider: str) -> str:
    return f"{settings.BASE_URL}/auth/{provider}/callback"


async def _too_many(request: Request, what: str) -> int | None:
    """Seconds to wait when this client address started too many flows (or callbacks)
    this minute; None when it may go on."""
    address = request.client.host if request.client is not None else "unknown"
    wait = await services_of(request).ratelimit.hit(
        f"oauth_{what}:{address}", OAUTH_PER_MINUTE, 60.0
    )
    return None if wait is None else max(1, round(wait + 0.5))


def _limited(request: Request, provider: str, flow: dict[str, Any], seconds: int) -> HTMLResponse:
    log.warning("sign-in rate limited", provider=provider)
    page = _page(request, provider, flow, 429, "auth_rate_limited", {"seconds": seconds})
    page.headers["Retry-After"] = str(seconds)
    return page


async def _begin(request: Request, provider: str, flow: dict[str, Any]) -> Response:
    seconds = await _too_many(request, "login")
    if seconds is not None:
        return _limited(request, provider, flow, seconds)
    settings = services_of(request).settings
    try:
        return await clients_of(request).authorize_redirect(
            request, provider, callback_url(settings, provider), flow
        )
    except OAuthFailure as failure:
        return _failed(request, provider, flow, failure.reason, failure.status, failure.detail)


@router.get("/auth/{provider}/login", include_in_schema=False)
async def login(request: Request, provider: str, next: str = "/problems") -> Response:
    offered(request, provider)
    return await _begin(request, provider, {"mode": SIGN_IN, "next": safe_next(next)})


@router.post("/settings/identities/{provider}/link", include_in_schema=False)
async def link(
    request: Request, provider: str, csrf_token_field: str = Form("", alias="csrf_token")
) -> Response:
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    offered(request, provider)
    return await _begin(
        request, provider, {"mode": LINK, "user_id": user.id, "next": SETTINGS_SECTION}
    )


@router.post("/settings/identities/{provider}/unlink", include_in_schema=False)
async def unlink(
    request: Request, provider: str, csrf_token_field: str = Form("", alias="csrf_token")
) -> Response:
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    services = services_of(request)
    if provider not in identities.LABELS:
        raise UserError(404, "not_found")
    async with services.db.session() as session:
        await identities.unlink(session, user.id, provider, services.settings.nickname_sign_in)
    log.info("identity unlinked", user_id=user.id, provider=provider)
    return back_to_settings(provider, "identity_unlinked_notice")


@router.get("/auth/{provider}/callback", include_in_schema=False)
async def callback(request: Request, provider: str) -> Response:
    offered(request, provider)
    kept = clients_of(request).flow_of(request, provider, request.query_params.get("state"))
    flow = kept or {"mode": SIGN_IN, "next": "/problems"}
    seconds = await _too_many(request, "callback")
    if seconds is not None:  # the flow stays: the same callback may come again later
        return _limited(request, provider, flow, seconds)
    try:
        data = await clients_of(request).profile_data(request, provider)
    except OAuthFailure as failure:
        return _failed(request, provider, flow, failure.reason, failure.status, failure.detail)
    try:
        profile = identities.profile_of(provider, data)
    except ProfileError as exc:
        return _failed(request, provider, flow, "bad_profile", 502, str(exc))
    if flow.get("mode") == LINK:
        return await _link(request, provider, flow, profile)
    return await _sign_in(request, provider, flow, profile)


async def _link(
    request: Request, provider: str, flow: dict[str, Any], profile: Profile
) -> Response:
    user = current_user(request)
    if user is None or user.id != flow.get("user_id"):
        # Signed out (or in as someone else) since the link began: link nothing.
        return _failed(request, provider, flow, "link_session", 403, "user changed")
    try:
        async with services_of(request).db.session() as session:
            await identities.link(session, user.id, profile)
    except UserError as exc:
        log.warning("identity link refused", provider=provider, user_id=user.id, key=exc.key)
        if exc.key in IDENTITY_REFUSED:
            return back_to_settings(provider, exc.key)
        return _page(request, provider, flow, exc.status, exc.key, exc.params)
    log.info("identity linked", provider=provider, user_id=user.id)
    return back_to_settings(provider, "identity_linked_notice")


async def _sign_in(
    request: Request, provider: str, flow: dict[str, Any], profile: Profile
) -> Response:
    services = services_of(request)
    next_url = safe_next(flow.get("next") if isinstance(flow.get("next"), str) else None)
    async with services.db.session() as session:
        user = await identities.user_of(session, provider, profile.subject)
        match = None if user is not None else await identities.email_match(session, profile)
        their = await identities.providers_of(session, match.id) if match is not None else []
    if user is not None:
        await start_session(request, user, provider)
        log.info("signed in", provider=provider, user_id=user.id)
        return signed_in_redirect(request, user, next_url)
    if match is not None:
        # Never merged by address: the person signs in to that account, then links.
        log.info("email matches an account", provider=provider, user_id=match.id)
        return render(
            request,
            "auth_email_match.html",
            status_code=409,
            provider=provider,
            provider_label=identities.label(provider),
            their_providers=[p for p in their if p in services.settings.oauth_providers],
            nickname_enabled=services.settings.nickname_sign_in,
        )
    await start_pending(
        request, provider, {"profile": identities.profile_dict(profile), "next": next_url}
    )
    log.info("first sign-in begun", provider=provider)
    return RedirectResponse("/welcome", status_code=303)


def _failed(
    request: Request,
    provider: str,
    flow: dict[str, Any],
    reason: str,
    status: int,
    detail: str = "",
) -> Response:
    log.warning("sign-in failed", provider=provider, reason=reason, detail=detail)
    key = "auth_error_" + reason
    user = current_user(request)
    linking = flow.get("mode") == LINK and user is not None and user.id == flow.get("user_id")
    if linking and key in IDENTITY_REFUSED:
        # A signed-in person linking goes back to settings, told why (a cancelled consent…).
        return back_to_settings(provider, key)
    return _page(request, provider, flow, status, key, {})


def _page(
    request: Request,
    provider: str,
    flow: dict[str, Any],
    status: int,
    key: str,
    params: dict[str, Any],
) -> HTMLResponse:
    linking = flow.get("mode") == LINK
    next_url = safe_next(flow.get("next") if isinstance(flow.get("next"), str) else None)
    again = (
        SETTINGS_SECTION if linking else f"/auth/{provider}/login?" + urlencode({"next": next_url})
    )
    return render(
        request,
        "auth_error.html",
        status_code=status,
        message_key=key,
        message_params=params,
        provider=provider,
        provider_label=identities.label(provider),
        again=again,
    )
