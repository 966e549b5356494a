"""The one way code comes in: the API route, matches, rooms and the AI opponent all submit
through `submit`, which finds the target, saves the code and the submission, lets the game
know, and queues the judge job, in that order.

What a match or room adds (the problem version played there, the event logged before
judging) comes in a `Place` the caller builds: submissions know nothing of battles or rooms,
which sit above them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.services import Services
from codebattle.submissions import service
from codebattle.submissions.models import SUBMIT, Submission


@dataclass(frozen=True)
class Place:
    """A match or a room a submission counts for.

    `target` says what its code is judged against (and refuses with a UserError when the
    user may not submit there now); `before_judging`, if any, is told of the saved
    submission (its id and when it was made) before its job is queued, so the game knows
    to wait for its verdict."""

    target: Callable[[AsyncSession], Awaitable[service.Target]]
    match_id: int | None = None
    room_id: int | None = None
    before_judging: Callable[[int, float], Awaitable[None]] | None = None


async def submit(
    services: Services,
    user: User,
    problem: object,
    language: object,
    code: object,
    *,
    kind: str = SUBMIT,
    custom_input: object = None,
    place: Place | None = None,
) -> Submission:
    """Validate and save a submission, then queue it for judging. `problem` (a slug) is
    read only without a `place`, whose target is the problem played there."""
    async with services.db.session() as session:
        target = await place.target(session) if place is not None else None
        submission, job = await service.create(
            session,
            services.blobs,
            user,
            problem,
            language,
            code,
            kind=kind,
            custom_input=custom_input,
            max_code_bytes=services.settings.MAX_CODE_BYTES,
            target=target,
            match_id=place.match_id if place is not None else None,
            room_id=place.room_id if place is not None else None,
        )
    if place is not None and place.before_judging is not None and submission.kind == SUBMIT:
        await place.before_judging(submission.id, service.made_at(submission))
    await services.queue.enqueue(job)
    return submission
