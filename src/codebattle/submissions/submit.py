"""The one way code comes in: the API route, matches, rooms and the AI opponent all submit
through `submit`, which finds the target, saves the code, the submission and its job (the
outbox), lets the game know, all in one transaction, then sends the job to the queue.

What a match or room adds (the problem version played there, the event logged before
judging) comes in a `Place` the caller builds: submissions know nothing of battles or rooms,
which sit above them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from codebattle import failpoints
from codebattle.accounts.models import User
from codebattle.services import Services
from codebattle.submissions import outbox, service
from codebattle.submissions.models import SUBMIT, Submission

# After the commit: publish what the game logged (its clients learn of the submission).
Announce = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Place:
    """A match or a room a submission counts for.

    `target` says what its code is judged against (and refuses with a UserError when the
    user may not submit there now); `before_judging`, if any, is told of the submission
    being saved (its id and when it was made) in the transaction that saves it, so the game
    waits for its verdict if and only if it exists; it returns what to publish after the
    commit."""

    target: Callable[[AsyncSession], Awaitable[service.Target]]
    match_id: int | None = None
    room_id: int | None = None
    before_judging: Callable[[AsyncSession, int, float], Awaitable[Announce | None]] | None = None


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
    """Validate and save a submission with its job, then send the job to the queue (if the
    queue cannot take it now, the outbox relay sends it later). `problem` (a slug) is read
    only without a `place`, whose target is the problem played there."""
    announce = None
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
        due_at = outbox.add(session, submission.id, datetime.now(UTC))
        if place is not None and place.before_judging is not None and submission.kind == SUBMIT:
            announce = await place.before_judging(
                session, submission.id, service.made_at(submission)
            )
        await session.commit()
    failpoints.hit("submit.after_commit")
    try:
        if announce is not None:
            await announce()
    finally:  # the game's clients catch up from its log; the job goes now, not after grace
        await outbox.send(services.db, services.queue, job, due_at)
    return submission
