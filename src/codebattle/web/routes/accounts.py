"""Sign-in (nickname, outside production and for players only), sign-out, language choice,
settings and tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from codebattle.accounts import identities, plans, profiles, service
from codebattle.accounts.models import User
from codebattle.errors import UserError
from codebattle.i18n import LOCALES
from codebattle.services import services_of
from codebattle.web.ids import Id
from codebattle.web.render import render
from codebattle.web.security import check_csrf, require_account, require_user
from codebattle.web.sessions import (
    end_everywhere,
    end_one,
    end_session,
    sessions_of,
    set_language,
    signed_in_redirect,
    start_session,
    this_session_hash,
)

router = APIRouter()
# Notices the settings page shows after linking or unlinking (?notice=<key>&provider=<p>):
# confirmations, and why a link did not happen (never any other key from the address).
IDENTITY_DONE = frozenset({"identity_linked_notice", "identity_unlinked_notice"})
IDENTITY_REFUSED = frozenset(
    {"identity_taken", "identity_provider_linked"}
    | {
        "auth_error_" + reason
        for reason in (
            "cancelled", "state", "code_used", "provider_error", "unavailable", "id_token",
            "bad_profile",
        )
    }
)  # fmt: skip


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/problems"


@router.get("/signin", response_class=HTMLResponse, include_in_schema=False)
async def signin_page(request: Request, next: str = "/problems") -> HTMLResponse:
    settings = services_of(request).settings
    return render(
        request,
        "signin.html",
        next=safe_next(next),
        nickname_enabled=settings.nickname_sign_in,
        providers=settings.oauth_providers,
        error=None,
    )


@router.post("/signin", include_in_schema=False)
async def signin(
    request: Request,
    nickname: str = Form(""),
    next: str = Form("/problems"),
    csrf_token_field: str = Form("", alias="csrf_token"),
) -> Response:
    check_csrf(request, csrf_token_field)
    services = services_of(request)
    if not services.settings.nickname_sign_in:
        raise UserError(403, "nickname_sign_in_disabled")
    try:
        async with services.db.session() as session:
            user = await service.sign_in_nickname(session, nickname, request.state.locale)
    except UserError as exc:
        return render(
            request,
            "signin.html",
            status_code=exc.status,
            next=safe_next(next),
            nickname_enabled=True,
            providers=services.settings.oauth_providers,
            error=exc.key,
            nickname=nickname[:40],
        )
    # app.identify re-checks nickname sessions (production, a role above player).
    await start_session(request, user, service.NICKNAME_SESSION)
    return signed_in_redirect(request, user, safe_next(next))


@router.post("/signout", include_in_schema=False)
async def signout(
    request: Request, csrf_token_field: str = Form("", alias="csrf_token")
) -> Response:
    check_csrf(request, csrf_token_field)
    await end_session(request)
    return RedirectResponse("/", status_code=303)


@router.post("/lang", include_in_schema=False)
async def choose_language(
    request: Request,
    lang: str = Form(...),
    next: str = Form("/"),
    csrf_token_field: str = Form("", alias="csrf_token"),
) -> Response:
    check_csrf(request, csrf_token_field)
    locale = lang if lang in LOCALES else "ko"
    user = request.state.user
    # The account keeps the choice too, but a preview's database keeps no account change:
    # there the cookie alone carries it (decision 0030).
    if isinstance(user, User) and not services_of(request).settings.preview:
        async with services_of(request).db.session() as session:
            stored = await session.get(User, user.id)
            if stored is not None:
                stored.locale = locale
                await session.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_language(request, response, locale)
    return response


def settings_notice(request: Request) -> dict[str, Any] | None:
    """The sign-in methods' notice named in the address, if it is one we show."""
    key = request.query_params.get("notice", "")
    provider = request.query_params.get("provider", "")
    if key not in IDENTITY_DONE | IDENTITY_REFUSED or provider not in identities.LABELS:
        return None
    return {"key": key, "provider": identities.label(provider), "error": key in IDENTITY_REFUSED}


async def _settings_page(request: Request, new_token: str | None = None) -> HTMLResponse:
    user = require_account(request)  # open to restricted accounts too (under 14, no consent)
    settings = services_of(request).settings
    # A restricted account sees no token or linking forms (they need require_user).
    restricted = profiles.restriction(user, zone=settings.plan_zone)
    async with services_of(request).db.session() as session:
        tokens = await service.tokens(session, user)
        methods = await identities.sign_in_methods(
            session, user.id, settings.oauth_providers, settings.nickname_sign_in
        )
        plan_games = await plans.allowance(session, user, settings, datetime.now(UTC))
    devices = await sessions_of(request, user)
    return render(
        request,
        "settings.html",
        tokens=tokens,
        new_token=new_token,
        devices=devices,
        sign_in_methods=methods,
        plan_games=plan_games,
        # The plan that holds now (an expired Pro is Free), and its end if paid.
        plan_name=plan_games.plan,
        plan_until=user.plan_ends_at if plan_games.plan != "free" else None,
        restricted=restricted,
        notice=settings_notice(request),
    )


@router.get("/settings", response_class=HTMLResponse, include_in_schema=False)
async def settings_page(request: Request) -> HTMLResponse:
    response = await _settings_page(request)
    response.headers["cache-control"] = "no-store"  # sessions, tokens, plan: never cached
    return response


@router.post("/settings/tokens", response_class=HTMLResponse, include_in_schema=False)
async def create_token(
    request: Request, name: str = Form(""), csrf_token_field: str = Form("", alias="csrf_token")
) -> HTMLResponse:
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    async with services_of(request).db.session() as session:
        _token, plain = await service.create_token(session, user, name)
    response = await _settings_page(request, new_token=plain)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
async def revoke_token(
    request: Request, token_id: Id, csrf_token_field: str = Form("", alias="csrf_token")
) -> Response:
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    async with services_of(request).db.session() as session:
        await service.revoke_token(session, user, token_id)
    return RedirectResponse("/settings", status_code=303)


@router.get("/api/me", tags=["accounts"])
async def me(request: Request) -> dict[str, Any]:
    user = require_user(request)
    services = services_of(request)
    async with services.db.reading() as session:  # the plan and today's games (null: unlimited)
        games = await plans.allowance(session, user, services.settings, datetime.now(UTC))
    return {
        "id": user.id, "nickname": user.nickname, "locale": user.locale, "role": user.role,
        **games.as_json(),
    }  # fmt: skip


@router.post("/settings/sessions/end", include_in_schema=False)
async def end_device_session(
    request: Request,
    session_hash: str = Form("", alias="session"),
    csrf_token_field: str = Form("", alias="csrf_token"),
) -> Response:
    """End one of the user's sessions (the settings page's list); this browser's own is a
    sign-out."""
    check_csrf(request, csrf_token_field)
    user = require_account(request)
    this = session_hash == this_session_hash(request)
    if not await end_one(request, user, session_hash[:64]):
        raise UserError(404, "session_unknown")
    return RedirectResponse("/" if this else "/settings#sessions", status_code=303)


@router.post("/settings/sessions/end-all", include_in_schema=False)
async def sign_out_everywhere(
    request: Request, csrf_token_field: str = Form("", alias="csrf_token")
) -> Response:
    """Sign out on every browser and device, this one included."""
    check_csrf(request, csrf_token_field)
    user = require_account(request)
    await end_everywhere(request, user)
    return RedirectResponse("/?notice=signed_out_everywhere", status_code=303)
