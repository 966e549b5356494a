"""Editor telemetry over HTTP, for pages without a game socket: practice, and a room's
problem page (the room's socket lives on the room page). Matches send theirs on the match
socket. The batch is checked and stored by fairplay.telemetry; nothing is sent back but a
count (docs/protocol.md, "Editor telemetry over HTTP")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from codebattle.fairplay import telemetry
from codebattle.problems import service as problems
from codebattle.services import services_of
from codebattle.web.ids import BodyId
from codebattle.web.security import require_api_write

router = APIRouter()


class TelemetryIn(BaseModel):
    problem: str = Field(max_length=64, description="problem slug")
    room: BodyId | None = Field(default=None, description="the room the problem is played in")
    # Checked by fairplay.telemetry.check_batch, so a bad one is `telemetry_invalid`.
    events: Any = Field(description="the editor's events (docs/protocol.md)")


class TelemetryStored(BaseModel):
    stored: int  # events kept


@router.post("/api/telemetry", tags=["fairplay"])
async def post_telemetry(request: Request, body: TelemetryIn) -> TelemetryStored:
    """A batch of the signed-in player's editor events on a problem (CSRF header or API
    token, as every JSON write). Refused whole, with the error's code, or stored whole."""
    user = require_api_write(request)
    services = services_of(request)
    async with services.db.reading() as session:
        problem_id = (await problems.problem_by_slug(session, body.problem)).id
    row = await telemetry.accept(
        services, user.id, {"events": body.events}, room_id=body.room, problem_id=problem_id
    )
    return TelemetryStored(stored=row.event_count)
