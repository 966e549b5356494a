"""The fleet page (`/ops/fleet`) and its JSON (`/api/ops/fleet`): judge workers, the judging
queue, latency and IE rate, API instances, alert webhooks. Operators and admins only;
anyone else gets 404, as for a page that does not exist. Read only: nothing to confirm."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from codebattle.accounts.roles import is_staff
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.ops import fleet
from codebattle.services import services_of
from codebattle.web.render import locale_of, render
from codebattle.web.security import current_user

router = APIRouter()


async def _snapshot(request: Request) -> fleet.Fleet:
    if not is_staff(current_user(request)):
        raise UserError(404, "not_found")
    services = services_of(request)
    async with services.db.reading() as session:
        return await fleet.snapshot(
            session, services.queue, services.settings, here=services.instance
        )


@router.get("/api/ops/fleet", tags=["ops"])
async def fleet_json(request: Request) -> dict[str, Any]:
    """Workers, queue depth per language, the last hour's latency and IE rate, instances
    and the alert webhooks' health."""
    return (await _snapshot(request)).to_json()


def duration(locale: str, seconds: float) -> str:
    """A span in the page's words, to the unit that matters: "42 s", "3 min", "5 h", "2 d"."""
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return translate(f"ops.fleet.{unit}", locale, n=int(seconds // size))
    return translate("ops.fleet.seconds", locale, n=int(seconds))


@router.get("/ops/fleet", response_class=HTMLResponse, include_in_schema=False)
async def fleet_page(request: Request) -> HTMLResponse:
    snapshot = await _snapshot(request)
    locale = locale_of(request)
    return render(
        request, "ops_fleet.html", fleet=snapshot, ops_section="fleet",
        duration=lambda seconds: duration(locale, seconds),
        since=lambda moment: duration(locale, max(0.0, (snapshot.now - moment).total_seconds())),
    )  # fmt: skip
