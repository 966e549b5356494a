"""The AI opponent at play. It submits through the same path as a person (a submission in
the match, judged by the same workers); it is a user marked `is_ai`, labelled as AI
everywhere, and its games are unrated.

Its code: with an OpenAI key (and MOCK_GPT5 off) it asks the model once (short timeout); if
that fails, or offline, it plays the problem's reference solution. Either way it follows a
human-like timeline (battles/ai_offline.py): reads, types (typing activity, never code),
sometimes fails a first attempt (offline only), then submits.

It runs as a task in the API instance that created the match. If that instance stops, the AI
stops playing; the human can still win by solving (or at the time limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.battles import ai_offline, fsm, live, lobby
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow
from codebattle.errors import UserError
from codebattle.integrations.openai import OpenAIClient, ai_solution
from codebattle.problems import service as problems
from codebattle.problems.models import ProblemVersion
from codebattle.submissions import service as submissions

if TYPE_CHECKING:
    from codebattle.services import Services

log = structlog.get_logger(__name__)
LANGUAGE_PREFERENCE = ("python", "cpp", "java")


async def ai_user(session: AsyncSession, level: str) -> User:
    """The AI opponent of a level, as a user. Its nickname has characters a person's
    cannot have, so nobody can pass for it."""
    nickname = f"AI ({level})"
    user = await session.scalar(select(User).where(User.nickname == nickname))
    if user is None:
        user = User(nickname=nickname, locale="en", is_ai=True)
        session.add(user)
        await session.flush()
    return user


async def level_of(session: AsyncSession, ai_id: int) -> str | None:
    """The level an AI user plays at (its nickname says it)."""
    user = await session.get(User, ai_id)
    if user is None or not user.is_ai:
        return None
    level = user.nickname.removeprefix("AI (").removesuffix(")")
    return level if level in ai_offline.LEVELS else None


async def start_match(services: Services, user_id: int, level: str | None = None) -> int:
    """A new unrated game against the AI; the AI starts playing at once."""
    settings = services.settings
    chosen = level or settings.AI_LEVEL
    if chosen not in ai_offline.LEVELS:
        raise UserError(422, "level_unknown")
    rng = random.Random()
    async with services.db.session() as session:
        if await battles.active_match_of(session, user_id) is not None:
            raise UserError(409, "already_in_match")
        await lobby.leave(session, user_id)
        version = await battles.pick_problem(session, rng, needs_solution=True)
        opponent = await ai_user(session, chosen)
        row = await battles.start(
            session, version, live.match_settings(services), mode="ai", rated=False,
            players=[(user_id, False), (opponent.id, True)],
        )  # fmt: skip
        await session.commit()
        match_id, ai_id = row.id, opponent.id
    services.spawn(play(services, match_id, ai_id, chosen, rng))
    return match_id


async def play(
    services: Services, match_id: int, ai_id: int, level: str, rng: random.Random
) -> None:
    try:
        await _play(services, match_id, ai_id, level, rng)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("the AI opponent stopped", match=match_id)


async def _play(
    services: Services, match_id: int, ai_id: int, level: str, rng: random.Random
) -> None:
    async with services.db.session() as session:
        row = await session.get(MatchRow, match_id)
        assert row is not None
        version = await session.get(ProblemVersion, row.problem_version_id)
        assert version is not None
        starts_at = battles.load(row.fsm).starts_at or time.time()
    language = next(lang for lang in (*LANGUAGE_PREFERENCE, *version.solutions)
                    if lang in version.solutions)  # fmt: skip
    code = await _model_solution(services, version, language)
    steps = ai_offline.plan(code or version.solutions[language], level, rng)
    if code is not None:  # the model's answer is submitted as it came
        steps = [s for s in steps if s.kind == "typing"] + [steps[-1]]
    speed = services.settings.AI_SPEED
    for step in steps:
        await asyncio.sleep(max(0.0, starts_at + step.at / speed - time.time()))
        async with services.db.session() as session:
            row = await session.get(MatchRow, match_id)
            if row is None or row.state in (fsm.State.finished, fsm.State.cancelled):
                return
        if step.kind == "typing":
            chars = round(step.progress * len(steps[-1].code))
            await live.publish_ephemeral(
                services, match_id, {"type": "activity", "user": ai_id, "chars": chars}
            )
        else:
            await _submit(services, match_id, ai_id, language, step.code)


async def _model_solution(services: Services, version: ProblemVersion, language: str) -> str | None:
    settings = services.settings
    if settings.MOCK_GPT5 or settings.OPENAI_API_KEY is None:
        return None
    client = OpenAIClient(
        settings.OPENAI_API_KEY.get_secret_value(), model=settings.OPENAI_MODEL,
        base_url=settings.OPENAI_BASE_URL, timeout=settings.OPENAI_TIMEOUT_SECONDS,
    )  # fmt: skip
    try:
        _lang, statement = problems.statement_of(version, "en")
        return await ai_solution(client, statement, language, version.templates.get(language))
    finally:
        await client.aclose()


async def _submit(services: Services, match_id: int, ai_id: int, language: str, code: str) -> None:
    async with services.db.session() as session:
        user = await session.get(User, ai_id)
        assert user is not None
        try:
            target = await battles.match_target(session, match_id, ai_id)
        except UserError:
            return  # the game ended
        submission, job = await submissions.create(
            session, services.blobs, user, None, language, code,
            max_code_bytes=services.settings.MAX_CODE_BYTES, target=target, match_id=match_id,
        )  # fmt: skip
    await services.queue.enqueue(job)
    with contextlib.suppress(fsm.IllegalEvent):
        await live.act(
            services, match_id, {"type": "submitted", "user": ai_id, "submission": submission.id}
        )
