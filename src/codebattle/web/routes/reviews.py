"""The AI code review: its page, its JSON (asked for, then polled), the consent form, and
the arena's link to a finished game's review (reviews/service.py holds the rules)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, StrictBool

from codebattle.accounts import plans
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.reviews import service
from codebattle.services import services_of
from codebattle.submissions import service as submissions
from codebattle.web.ids import Id
from codebattle.web.render import locale_of, render
from codebattle.web.security import check_csrf, require_api_write, require_user

router = APIRouter()


class ReviewIn(BaseModel):
    # The answer to "may the model see my code?", if given now: JSON true or false only
    # (lax bool would take "yes", 1, "on"... as consent to send code away).
    consent: StrictBool | None = None


def _reply(review: Any, locale: str) -> JSONResponse:
    data = service.as_json(review, locale)
    return JSONResponse(data, status_code=202 if data["status"] == service.PENDING else 200)


@router.post("/api/submissions/{submission_id}/review", tags=["reviews"])
async def ask_review(
    request: Request, submission_id: Id, body: ReviewIn | None = None
) -> JSONResponse:
    """Ask for the review of one of your submissions (idempotent): 202 while it is being
    prepared, 200 once ready. 403 names why it cannot be had (plan, game not over, not
    accepted); 409 review_consent_needed asks for `consent` first."""
    user = require_api_write(request)
    review = await service.request_review(
        services_of(request), user, submission_id, body.consent if body else None
    )
    return _reply(review, locale_of(request))


@router.get("/api/submissions/{submission_id}/review", tags=["reviews"])
async def get_review(request: Request, submission_id: Id) -> JSONResponse:
    """The review's state ("none", "pending", "ready", "failed") and, when ready, its body."""
    user = require_user(request)
    review = await service.read(services_of(request), user, submission_id)
    return _reply(review, locale_of(request))


@router.get(
    "/submissions/{submission_id}/review", response_class=HTMLResponse, include_in_schema=False
)
async def review_page(request: Request, submission_id: Id) -> HTMLResponse:
    user = require_user(request)
    services = services_of(request)
    settings = services.settings
    locale = locale_of(request)
    plan = service.plan_of(user)
    refusal: str | None = None
    async with services.db.reading() as session:
        submission = await submissions.get_owned(session, user, submission_id)
        slug = await service.problem_slug(session, submission)
        try:
            await service.eligible(session, user, submission_id)
        except UserError as exc:
            refusal = translate(exc.key, locale, **exc.params)
    review = await service.read(services, user, submission_id)
    allowed = plans.review_allowed(settings, plan)
    needs_consent = service.model_available(settings) and user.review_consent is None
    data = service.as_json(review, locale)
    return render(
        request, "review.html", submission=submission, problem=slug, review=data,
        plan=plan, allowed=allowed, basic_enabled=settings.BASIC_REVIEW_ENABLED,
        refusal=refusal, needs_consent=needs_consent,
        model=service.model_available(settings) and user.review_consent is True,
    )  # fmt: skip


# The review page's form values: its two consent buttons, and the plain button (none).
CONSENT_FORM: dict[str, bool | None] = {"yes": True, "no": False, "": None}


@router.post("/submissions/{submission_id}/review", include_in_schema=False)
async def ask_review_form(
    request: Request,
    submission_id: Id,
    csrf_token_field: str = Form("", alias="csrf_token"),
    consent: str = Form(""),
) -> Response:
    """The page's button (and its consent form: consent=yes|no; absent for the plain
    button). Any other value is refused rather than read as "no answer"."""
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    if consent not in CONSENT_FORM:
        raise UserError(422, "bad_request")
    answer = CONSENT_FORM[consent]
    await service.request_review(services_of(request), user, submission_id, answer)
    return RedirectResponse(f"/submissions/{submission_id}/review", status_code=303)


@router.get("/matches/{match_id}/review", include_in_schema=False)
async def match_review(request: Request, match_id: Id) -> Response:
    """The arena's link: the review page of your final submission in the game."""
    user = require_user(request)
    async with services_of(request).db.reading() as session:
        submission_id = await service.final_in_match(session, user, match_id)
    return RedirectResponse(f"/submissions/{submission_id}/review", status_code=303)


@router.post("/settings/review-consent", include_in_schema=False)
async def review_consent(
    request: Request,
    csrf_token_field: str = Form("", alias="csrf_token"),
    consent: str = Form(""),
) -> Response:
    """The profile setting: may the AI review send my code to the model (yes / no)."""
    check_csrf(request, csrf_token_field)
    user = require_user(request)
    if consent not in ("yes", "no"):
        raise UserError(422, "bad_request")
    await service.set_consent(services_of(request), user.id, consent == "yes")
    return RedirectResponse("/settings?consent=saved#review-consent", status_code=303)
