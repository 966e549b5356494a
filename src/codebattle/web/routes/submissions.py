"""Submissions: the JSON API and the submission page (the live WebSocket:
submission_socket.py)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from codebattle.battles import live
from codebattle.errors import UserError
from codebattle.judge import languages
from codebattle.problems import service as problems
from codebattle.rooms import live as rooms_live
from codebattle.services import services_of
from codebattle.submissions import service
from codebattle.submissions.submit import submit
from codebattle.web.ids import BodyId, Id
from codebattle.web.render import render
from codebattle.web.security import require_api_write, require_user

router = APIRouter()


class SubmissionIn(BaseModel):
    problem: str = Field(max_length=64, description="problem slug")
    language: str = Field(max_length=20, description=f"One of: {languages.names()}")
    code: str
    kind: Literal["submit", "samples", "custom"] = "submit"
    input: str | None = Field(default=None, description="stdin of a custom run")
    match: BodyId | None = Field(default=None, description="the match this submission is for")
    room: BodyId | None = Field(default=None, description="the room this submission is for")


class SubmissionCreated(BaseModel):
    id: int


@router.post("/api/submissions", status_code=201, tags=["submissions"])
async def create_submission(request: Request, body: SubmissionIn) -> SubmissionCreated:
    user = require_api_write(request)
    services = services_of(request)
    settings = services.settings
    wait = await services.ratelimit.hit(f"submit:{user.id}", settings.SUBMISSIONS_PER_MINUTE, 60.0)
    if wait is not None:
        seconds = max(1, round(wait + 0.5))
        raise UserError(429, "rate_limited", {"Retry-After": str(seconds)}, seconds=seconds)
    if body.match is not None and body.room is not None:
        raise UserError(422, "bad_request")
    place = None
    if body.match is not None:  # judged against the match's problem version
        place = live.match_place(services, body.match, user.id)
    elif body.room is not None:
        place = rooms_live.room_place(body.room, user.id, body.problem)
    submission = await submit(
        services, user, body.problem, body.language, body.code,
        kind=body.kind, custom_input=body.input, place=place,
    )  # fmt: skip
    return SubmissionCreated(id=submission.id)


@router.get("/api/submissions", tags=["submissions"])
async def list_submissions(request: Request, problem: str | None = None) -> list[dict[str, Any]]:
    user = require_user(request)
    async with services_of(request).db.session() as session:
        found = await problems.problem_by_slug(session, problem) if problem else None
        return await service.history_json(session, user, found)


async def _detail(request: Request, submission_id: int) -> dict[str, Any]:
    user = require_user(request)
    services = services_of(request)
    async with services.db.session() as session:
        submission = await service.get_owned(session, user, submission_id)
        data = await service.to_json(session, submission)
        data["code"] = await service.code_of(services.blobs, submission)
        data["custom_input"] = submission.custom_input
    return data


@router.get("/api/submissions/{submission_id}", tags=["submissions"])
async def get_submission(request: Request, submission_id: Id) -> JSONResponse:
    return JSONResponse(await _detail(request, submission_id))


@router.get("/submissions/{submission_id}", response_class=HTMLResponse, include_in_schema=False)
async def submission_page(request: Request, submission_id: Id) -> HTMLResponse:
    data = await _detail(request, submission_id)
    return render(request, "submission.html", submission=data)
