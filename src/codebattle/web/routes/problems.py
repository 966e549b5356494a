"""Problem list and statement/practice pages, and their JSON API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from codebattle.errors import UserError
from codebattle.problems import assets, service, statements
from codebattle.problems.models import Problem
from codebattle.problems.templates import choices_of
from codebattle.rooms import service as rooms
from codebattle.services import services_of
from codebattle.submissions import service as submissions
from codebattle.web.ids import valid_id
from codebattle.web.render import locale_of, render, statement_markup
from codebattle.web.security import current_user

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/problems", response_class=HTMLResponse, include_in_schema=False)
async def problem_list(
    request: Request, q: str = "", difficulty: str = "", tag: str = ""
) -> HTMLResponse:
    async with services_of(request).db.reading() as session:
        problems = await service.listing(session, q[:100], difficulty, tag[:40])
        solved = await submissions.solved_ids(session, current_user(request))
    locale = locale_of(request)
    rows = [service.problem_json(p, locale, p.id in solved) for p in problems]
    return render(
        request, "problems.html", problems=rows, q=q[:100], difficulty=difficulty, tag=tag[:40]
    )


@router.get("/api/problems", tags=["problems"])
async def api_problem_list(
    request: Request, q: str = "", difficulty: str = "", tag: str = ""
) -> list[dict[str, Any]]:
    async with services_of(request).db.reading() as session:
        problems = await service.listing(session, q[:100], difficulty, tag[:40])
        solved = await submissions.solved_ids(session, current_user(request))
    locale = locale_of(request)
    return [service.problem_json(p, locale, p.id in solved) for p in problems]


async def _problem(request: Request, slug: str) -> Problem:
    async with services_of(request).db.reading() as session:
        return await service.problem_by_slug(session, slug)


@router.get("/api/problems/{slug}", tags=["problems"])
async def api_problem(request: Request, slug: str) -> dict[str, Any]:
    problem = await _problem(request, slug)
    return service.problem_detail_json(problem, locale_of(request))


@router.get("/problems/{slug}", response_class=HTMLResponse, include_in_schema=False)
async def problem_page(request: Request, slug: str, room: str | None = None) -> HTMLResponse:
    """The statement and the practice editor; with `?room=<id>` (a member, while the room
    runs) submissions count for that room. A `room` that names no room is ignored."""
    room_id = valid_id(room)
    problem = await _problem(request, slug)
    locale = locale_of(request)
    detail = service.problem_detail_json(problem, locale)
    version = problem.current_version
    assert version is not None  # _problem finds only problems with one
    user = current_user(request)
    history: list[dict[str, Any]] = []
    room_context = None
    if user is not None:
        async with services_of(request).db.reading() as session:
            if room_id is not None:
                room_context = await rooms.practice_context(session, room_id, user.id, slug)
            history = [
                {
                    "id": s.id,
                    "kind": s.kind,
                    "language": s.language,
                    "status": s.status,
                    "verdict": s.verdict,
                    "created_at": s.created_at,
                }
                for s in await submissions.history(session, user, problem, limit=30)
            ]
    return render(
        request,
        "problem.html",
        problem=detail,
        statement_html=statement_markup(version, locale),
        pdf_statements=_pdf_statements(problem),
        samples=service.samples_to_show(detail["statement"], detail["samples"]),
        languages=choices_of(version),
        history=history,
        room=room_context,
    )


def _pdf_statements(problem: Problem) -> list[dict[str, str]]:
    """The PDF statements of languages that have no other statement: download links."""
    version = problem.current_version
    assert version is not None
    return [
        {"language": lang, "url": statements.asset_url(problem.slug, name)}
        for lang, name in statements.pdf_languages(version.assets or {}).items()
        if lang not in version.statements
    ]


# Served as documents of their own: no script (an SVG can hold one), no other resource.
_ASSET_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"


@router.get("/problems/{slug}/assets/{name}", include_in_schema=False)
async def statement_asset(request: Request, slug: str, name: str) -> Response:
    """An image or PDF of the current version's statement, by the name the version lists;
    the same access as the statement page."""
    problem = await _problem(request, slug)
    version = problem.current_version
    assert version is not None
    key = (version.assets or {}).get(name)
    media_type = assets.content_type(name)
    if key is None or media_type is None:
        raise UserError(404, "not_found")
    try:
        data = await services_of(request).blobs.aget(key)
    except KeyError:
        raise UserError(404, "not_found") from None
    # A PDF is a download (a browser's viewer does not run under the sandbox policy).
    disposition = "attachment" if media_type == "application/pdf" else "inline"
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _ASSET_POLICY,
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Cache-Control": "public, max-age=300",
    }
    return Response(data, media_type=media_type, headers=headers)
