"""A user's notifications: the page (newest first, the unread marked), its JSON twin, "mark
all read", and the unread count the navigation shows beside the nickname (`unread_badge`,
read once per page request in app.identify: one COUNT on an index)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from codebattle.accounts import notifications
from codebattle.accounts.models import Notification, User
from codebattle.services import services_of
from codebattle.web.render import locale_of, render
from codebattle.web.security import SESSION, check_csrf, require_user

router = APIRouter()

PAGE_SIZE = 100
NO_BADGE = ("/api/", "/static/", "/ws/", "/healthz", "/readyz")


async def unread_badge(
    connection: HTTPConnection, session: AsyncSession, user: User | None, auth: str
) -> int | None:
    """The unread count for the navigation of a page (a GET by a signed-in browser), or
    None where no page is drawn (the API, static files, sockets)."""
    if user is None or auth != SESSION or connection.scope.get("method") != "GET":
        return None
    if connection.url.path.startswith(NO_BADGE):
        return None
    return await notifications.unread_count(session, user.id)


# Which words a notification's link gets, by its kind: a decision about the player links to
# the appeal form; an appeal's news links to that appeal; anything else just opens.
DECISION_KINDS = ("flag_warned", "flag_voided", "flag_suspended", "flag_banned")
APPEAL_KINDS = ("appeal_answered", "appeal_decided")


def _link_label(note: Notification) -> str:
    if note.kind in DECISION_KINDS:
        return "notifications.how_to_appeal"
    if note.kind in APPEAL_KINDS:
        return "notifications.open_appeal"
    return "notifications.open"


def _rows(notes: list[Notification], locale: str) -> list[dict[str, Any]]:
    return [
        {
            "id": note.id,
            "kind": note.kind,
            "text": notifications.text_of(note, locale),
            "link": note.link or None,
            "link_label": _link_label(note),
            "created_at": note.created_at,
            "unread": note.read_at is None,
        }
        for note in notes
    ]


async def _listing(request: Request, user: User) -> tuple[list[dict[str, Any]], int]:
    async with services_of(request).db.reading() as session:
        notes = await notifications.recent(session, user.id, PAGE_SIZE)
        unread = await notifications.unread_count(session, user.id)
    return _rows(notes, locale_of(request)), unread


@router.get("/api/notifications", tags=["accounts"])
async def notifications_json(request: Request) -> dict[str, Any]:
    """The newest notifications, in the reader's language, and how many are unread."""
    user = require_user(request, allow_banned=True)
    rows, unread = await _listing(request, user)
    return {
        "unread": unread,
        "items": [{**row, "created_at": row["created_at"].isoformat()} for row in rows],
    }


def _page(
    request: Request, rows: list[dict[str, Any]], unread: int, **context: Any
) -> HTMLResponse:
    return render(request, "notifications.html", items=rows, unread=unread, **context)


@router.get("/notifications", response_class=HTMLResponse, include_in_schema=False)
async def notifications_page(request: Request) -> HTMLResponse:
    user = require_user(request, allow_banned=True)  # a ban's notice says how to appeal
    rows, unread = await _listing(request, user)
    return _page(request, rows, unread)


@router.post("/notifications/read", include_in_schema=False)
async def mark_all_read(
    request: Request,
    csrf_token: str | None = Form(default=None),
    confirm: str | None = Form(default=None),
) -> Response:
    """Mark every notification read, once confirmed (static/ops.js asks in the
    dialog; without it this page asks)."""
    user = require_user(request, allow_banned=True)
    check_csrf(request, csrf_token)
    if confirm != "yes":
        rows, unread = await _listing(request, user)
        return _page(request, rows, unread, confirming=True)
    async with services_of(request).db.session() as session:
        await notifications.mark_read(session, user.id, None)
        await session.commit()
    return RedirectResponse("/notifications", status_code=303)
