"""The first sign-in (nickname, terms, birth year, invite), a guardian's consent for a user
under 14, and the terms and privacy pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from codebattle.accounts import profiles
from codebattle.accounts.models import User
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.integrations.mail import MailError
from codebattle.services import services_of
from codebattle.web.render import render
from codebattle.web.routes.accounts import safe_next
from codebattle.web.security import check_csrf, current_user, require_account
from codebattle.web.sessions import pending, signed_in_redirect, start_session

router = APIRouter()
GUARDIAN_REQUESTS_PER_HOUR = 3
HOUR = 3600.0


async def _pending(request: Request) -> profiles.Pending | None:
    return profiles.Pending.of(await pending(request))


def _welcome(
    request: Request, signup: profiles.Pending, status_code: int = 200, **values: Any
) -> HTMLResponse:
    settings = services_of(request).settings
    year = profiles.current_year(settings.plan_zone)
    _, band = profiles.provider_age(signup.profile, year)
    values.setdefault("nickname", profiles.suggested_nickname(signup.display_name))
    return render(
        request,
        "welcome.html",
        status_code=status_code,
        provider=signup.provider,
        ask_birth_year=band is None,
        years=profiles.birth_years(year),
        invite_only=settings.ALPHA_INVITE_ONLY,
        error=values.pop("error", None),
        error_params=values.pop("error_params", {}),
        values=values,
    )


@router.get("/welcome", response_class=HTMLResponse, include_in_schema=False)
async def welcome_page(request: Request) -> Response:
    signup = await _pending(request)
    if signup is None:
        # Nothing to finish: signed in already, or the sign-in expired.
        target = "/problems" if getattr(request.state, "user", None) else "/signin"
        return RedirectResponse(target, status_code=303)
    return _welcome(request, signup)


@router.post("/welcome", include_in_schema=False)
async def welcome(
    request: Request,
    nickname: str = Form(""),
    birth_year: str = Form(""),
    agree: str = Form(""),
    invite_code: str = Form(""),
    csrf_token_field: str = Form("", alias="csrf_token"),
) -> Response:
    check_csrf(request, csrf_token_field)
    signup = await _pending(request)
    if signup is None:
        return RedirectResponse("/signin", status_code=303)
    services = services_of(request)
    kept = {
        "nickname": nickname[:40],
        "birth_year": birth_year[:8],
        "agree": agree == "on",
        "invite_code": invite_code[:40],
    }
    try:
        async with services.db.session() as session:
            user = await profiles.finish_signup(
                session,
                signup,
                nickname,
                birth_year,
                agree == "on",
                invite_code,
                request.state.locale,
                invite_only=services.settings.ALPHA_INVITE_ONLY,
                zone=services.settings.plan_zone,
            )
    except UserError as exc:
        return _welcome(request, signup, exc.status, error=exc.key, error_params=exc.params, **kept)
    await start_session(request, user, signup.via)
    zone = services.settings.plan_zone
    target = (
        "/welcome/guardian" if profiles.restriction(user, zone=zone) else safe_next(signup.next)
    )
    return signed_in_redirect(request, user, target)


async def _guardian_page(
    request: Request, user: User, status_code: int = 200, **context: Any
) -> HTMLResponse:
    services = services_of(request)
    async with services.db.reading() as session:
        requests = await profiles.consents(session, user)
    reason = profiles.restriction(user, zone=services.settings.plan_zone)
    return render(
        request,
        "guardian.html",
        status_code=status_code,
        needed=reason == "guardian_consent_required",
        requests=requests,
        days=services_of(request).settings.GUARDIAN_CONSENT_DAYS,
        **context,
    )


@router.get("/welcome/guardian", response_class=HTMLResponse, include_in_schema=False)
async def guardian_page(request: Request) -> HTMLResponse:
    user = require_account(request)
    return await _guardian_page(request, user)


@router.post("/welcome/guardian", response_class=HTMLResponse, include_in_schema=False)
async def guardian_request(
    request: Request,
    guardian_email: str = Form(""),
    csrf_token_field: str = Form("", alias="csrf_token"),
) -> HTMLResponse:
    check_csrf(request, csrf_token_field)
    user = require_account(request)
    services = services_of(request)
    settings = services.settings
    try:
        profiles.check_email(guardian_email)  # a typo does not count against the limit
        wait = await services.ratelimit.hit(f"guardian:{user.id}", GUARDIAN_REQUESTS_PER_HOUR, HOUR)
        if wait is not None:
            raise UserError(429, "guardian_rate_limited", minutes=max(1, round(wait / 60)))
        async with services.db.session() as session:
            consent, token = await profiles.request_consent(
                session, user, guardian_email, settings.secret_key(), zone=settings.plan_zone
            )
        link = f"{settings.BASE_URL}/consent/{token}"
        try:
            await profiles.send_consent_mail(settings, consent.guardian_email, user.nickname, link)
        except MailError:
            raise UserError(502, "mail_failed") from None
    except UserError as exc:
        return await _guardian_page(
            request,
            user,
            exc.status,
            error=exc.key,
            error_params=exc.params,
            guardian_email=guardian_email[:254],
        )
    return await _guardian_page(request, user, sent_to=consent.guardian_email)


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


async def _consent_error(request: Request, exc: UserError) -> HTMLResponse:
    if exc.key == "consent_by_self":  # the child's own browser: a guardian must open it
        return render(request, "consent_self.html", status_code=exc.status, error=exc.key)
    return render(
        request, "consent_invalid.html", status_code=exc.status, error=exc.key, **exc.params
    )


@router.get("/consent/{token}", response_class=HTMLResponse, include_in_schema=False)
async def consent_page(request: Request, token: str) -> HTMLResponse:
    settings = services_of(request).settings
    try:
        async with services_of(request).db.reading() as session:
            found = await profiles.consent_of(
                session, token, settings.secret_key(), settings.GUARDIAN_CONSENT_DAYS
            )
        profiles.check_not_self(found, current_user(request))
    except UserError as exc:
        return await _consent_error(request, exc)
    return render(
        request,
        "consent.html",
        token=token,
        nickname=found.user.nickname,
        done=found.consent.consented_at is not None,
        tl=translate,
    )


@router.post("/consent/{token}", response_class=HTMLResponse, include_in_schema=False)
async def consent(
    request: Request, token: str, csrf_token_field: str = Form("", alias="csrf_token")
) -> HTMLResponse:
    check_csrf(request, csrf_token_field)
    settings = services_of(request).settings
    try:
        async with services_of(request).db.session() as session:
            found = await profiles.give_consent(
                session,
                token,
                settings.secret_key(),
                settings.GUARDIAN_CONSENT_DAYS,
                _address(request),
                current_user(request),
            )
    except UserError as exc:
        return await _consent_error(request, exc)
    return render(request, "consent.html", token=token, nickname=found.user.nickname, done=True)


@router.get("/terms", response_class=HTMLResponse, include_in_schema=False)
async def terms(request: Request) -> HTMLResponse:
    return render(request, "terms.html")


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
async def privacy(request: Request) -> HTMLResponse:
    settings = services_of(request).settings
    return render(request, "privacy.html", consent_days=settings.GUARDIAN_CONSENT_DAYS)
