"""Small factories for test data: a user, a problem version, a submission, a match and a room,
each with sensible defaults, made in the session a test passes in.

They go through the services that make these rows in production (sign-in, package import,
`submissions.create`, `battles.create`, `rooms.create`), so a factory's row is one the code
could have made. Rows are flushed (their ids are set); whether they are committed is the
service's rule, so a test commits when it needs to."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import service as accounts
from codebattle.battles import fsm
from codebattle.battles import service as battles
from codebattle.models import (
    MatchRow,
    PlayerRating,
    Problem,
    ProblemVersion,
    Room,
    Submission,
    User,
)
from codebattle.problems.importer import import_package
from codebattle.rooms import service as rooms
from codebattle.storage import BlobStore
from codebattle.submissions import service as submissions
from tests.support.hosts import PROBLEMS

STARTER = "hello-battle"  # the smallest starter package in problems/
MAX_CODE_BYTES = 64 * 1024
# A short ranked game: enough tests to score, a countdown and a grace period.
GAME = fsm.Settings(tests=22, duration=300, countdown=5, grace=20)

_numbers = itertools.count(1)


async def make_user(
    session: AsyncSession, nickname: str | None = None, *, locale: str = "en", rated_games: int = 0
) -> User:
    """A player who signed in with a nickname (a fresh one unless given). With `rated_games`,
    an established player: a rating of about 1040 over that many games."""
    user = await accounts.sign_in_nickname(session, nickname or f"player{next(_numbers)}", locale)
    if rated_games:
        session.add(
            PlayerRating(user_id=user.id, mu=25.0, sigma=6.0, display=1040, games=rated_games)
        )
        await session.flush()
    return user


async def make_problem_version(
    session: AsyncSession, blobs: BlobStore, slug: str = STARTER
) -> ProblemVersion:
    """The current version of a starter package from problems/, imported on first use
    (importing it again changes nothing)."""
    await import_package(session, blobs, PROBLEMS / slug)
    problem = await session.scalar(select(Problem).where(Problem.slug == slug))
    assert problem is not None and problem.current_version is not None
    return problem.current_version


async def make_submission(
    session: AsyncSession,
    blobs: BlobStore,
    user: User,
    slug: str = STARTER,
    *,
    language: str = "python",
    code: str = "print(1)\n",
) -> Submission:
    """A queued submission of `code` to an imported problem (see `make_problem_version`),
    its code in `blobs` as for a real one. No judge job is queued."""
    submission, _job = await submissions.create(
        session, blobs, user, slug, language, code, max_code_bytes=MAX_CODE_BYTES
    )
    await session.commit()
    return submission


async def make_match(
    session: AsyncSession,
    version: ProblemVersion,
    players: Sequence[User | int],
    *,
    mode: str = "ranked",
    rated: bool = True,
    settings: fsm.Settings = GAME,
    now: float | None = None,
) -> MatchRow:
    """A match on `version` that its players (users or user ids, none of them AI) have
    joined and are ready for, as matchmaking pairs them; its countdown starts at `now`."""
    return await battles.create(
        session,
        mode=mode,
        problem_id=version.problem_id,
        problem_version_id=version.id,
        settings=settings,
        rated=rated,
        players=[(_id_of(p), False) for p in players],
        now=time.time() if now is None else now,
    )


async def make_room(
    session: AsyncSession,
    host: User,
    slugs: Sequence[str] = (STARTER,),
    *,
    title: str = "Practice room",
    minutes: int = 60,
    size_limit: int = 10,
    public: bool = True,
) -> Room:
    """An open room hosted by `host` on these already imported problems (see
    `make_problem_version`)."""
    return await rooms.create(
        session,
        host,
        title=title,
        problem_slugs=list(slugs),
        duration_minutes=minutes,
        size_limit=size_limit,
        public=public,
        max_size=size_limit,
    )


def _id_of(user: User | int) -> int:
    return user if isinstance(user, int) else user.id
