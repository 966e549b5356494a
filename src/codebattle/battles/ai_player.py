"""The AI opponent at play. It submits through the same path as a person (a submission in
the match, judged by the same workers); it is a user marked `is_ai`, labelled as AI
everywhere, and its games are unrated.

Its code: with an OpenAI key (and MOCK_GPT5 off) it asks the model once (short timeout); if
that fails, or offline, it plays the problem's reference solution. Either way it follows a
human-like timeline (battles/ai_offline.py): reads, types (typing activity, never code),
sometimes fails a first attempt (offline only), then submits.

It runs as a task in the API instance that created the match, which holds the match's AI
lease and renews it every few seconds. If that instance stops, the lease runs out and another
instance's keeper takes the AI over: the plan is drawn from the match's own seed, so it goes
on with the same timeline, skipping the submissions already made.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import plans
from codebattle.accounts.models import User
from codebattle.battles import ai_offline, fsm, live, lobby
from codebattle.battles import service as battles
from codebattle.battles.models import MatchPlayer, MatchRow
from codebattle.errors import UserError
from codebattle.integrations.openai import OpenAIClient, PromptLanguage, ai_solution
from codebattle.judge import languages
from codebattle.problems import service as problems
from codebattle.problems.models import ProblemVersion
from codebattle.services import Services
from codebattle.submissions import service as submissions
from codebattle.submissions.submit import submit

log = structlog.get_logger(__name__)
LANGUAGE_PREFERENCE = ("python", "cpp", "java")
LEASE_SECONDS = 6.0  # an AI whose driver has not renewed for this long is taken over
RENEW_SECONDS = 2.0  # how often a driver renews, and how often keepers look for orphans
PLAYING = (fsm.State.waiting, fsm.State.countdown, fsm.State.running)


async def ai_user(session: AsyncSession, level: str) -> User:
    """The AI opponent of a level, as a user (its level a column of its own). Its nickname
    has characters a person's cannot have, so nobody can pass for it."""
    query = select(User).where(User.is_ai, User.ai_level == level)
    user = await session.scalar(query)
    if user is None:
        try:
            # Two first games at this level at once both insert it (a 500 for all but
            # one, found by bench/load.py): the loser's savepoint is undone, it reads it.
            async with session.begin_nested():
                session.add(User(nickname=f"AI ({level})", locale="en", is_ai=True,
                                 ai_level=level))  # fmt: skip
        except IntegrityError:
            pass
        user = await session.scalar(query)
        assert user is not None
    return user


async def level_of(session: AsyncSession, ai_id: int) -> str | None:
    """The level an AI user plays at (None for a person)."""
    user = await session.get(User, ai_id)
    if user is None or not user.is_ai or user.ai_level not in ai_offline.LEVELS:
        return None
    return user.ai_level


async def start_match(services: Services, user_id: int, level: str | None = None) -> int:
    """A new unrated game against the AI; the AI starts playing at once. It counts against
    the player's daily games in the transaction that creates it (UserError
    "daily_games_used" when none is left)."""
    settings = services.settings
    chosen = level or settings.AI_LEVEL
    if chosen not in ai_offline.LEVELS:
        raise UserError(422, "level_unknown")
    driver = uuid.uuid4().hex
    async with services.db.session() as session:
        if await battles.active_match_of(session, user_id) is not None:
            raise UserError(409, "already_in_match")
        await lobby.leave(session, user_id)
        user = await session.get(User, user_id)
        if user is None:
            raise UserError(404, "user_unknown")
        await plans.take_game(session, user, settings, datetime.now(UTC))
        version = await battles.pick_problem(session, random.Random(), needs_solution=True)
        opponent = await ai_user(session, chosen)
        row = await battles.start(
            session, version, live.match_settings(services), mode="ai", rated=False,
            players=[(user_id, False), (opponent.id, True)],
        )  # fmt: skip
        row.ai_driver, row.ai_lease_until = driver, time.time() + LEASE_SECONDS
        await session.commit()
        match_id, ai_id = row.id, opponent.id
    services.spawn(play(services, match_id, ai_id, chosen, driver))
    return match_id


async def take_over_orphans(services: Services) -> list[int]:
    """Claim every game whose AI lease ran out and play its AI here; the ids taken. Every
    instance runs this every RENEW_SECONDS (its keeper)."""
    now = time.time()
    async with services.db.reading() as session:  # no write lock for a look
        orphans = await session.execute(
            select(MatchRow.id, MatchPlayer.user_id, User.ai_level)
            .join(MatchPlayer, MatchPlayer.match_id == MatchRow.id)
            .join(User, User.id == MatchPlayer.user_id)
            .where(MatchRow.mode == "ai", MatchRow.state.in_(PLAYING), User.is_ai)
            .where(or_(MatchRow.ai_lease_until.is_(None), MatchRow.ai_lease_until < now))
        )
        found = orphans.all()
    taken = []
    for match_id, ai_id, level in found:
        driver = uuid.uuid4().hex
        if level in ai_offline.LEVELS and await _hold(services, match_id, driver, take_over=True):
            log.info("AI opponent taken over", match=match_id)
            services.spawn(play(services, match_id, ai_id, level, driver))
            taken.append(match_id)
    return taken


async def _hold(services: Services, match_id: int, driver: str, *, take_over: bool) -> bool:
    """Renew `driver`'s lease on the match's AI (or, with `take_over`, claim it if it ran
    out). False when the game is over or another driver holds it."""
    now = time.time()
    holder = (
        or_(MatchRow.ai_lease_until.is_(None), MatchRow.ai_lease_until < now)
        if take_over
        else MatchRow.ai_driver == driver
    )
    async with services.db.session() as session:
        claimed = await session.execute(
            update(MatchRow)
            .where(MatchRow.id == match_id, MatchRow.state.in_(PLAYING), holder)
            .values(ai_driver=driver, ai_lease_until=now + LEASE_SECONDS)
        )
        await session.commit()
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


async def release(services: Services, match_id: int, driver: str) -> None:
    """Give up `driver`'s lease (if it still holds it)."""
    async with services.db.session() as session:
        await session.execute(
            update(MatchRow)
            .where(MatchRow.id == match_id, MatchRow.ai_driver == driver)
            .values(ai_lease_until=None)
        )
        await session.commit()


async def play(services: Services, match_id: int, ai_id: int, level: str, driver: str) -> None:
    """Play the AI while `driver` holds its lease, renewing it; stop when the game ends or
    another driver has taken over."""
    game = asyncio.create_task(_play(services, match_id, ai_id, level))
    try:
        while not game.done():
            await asyncio.wait({game}, timeout=RENEW_SECONDS)
            if not game.done() and not await _hold(services, match_id, driver, take_over=False):
                game.cancel()  # the game is over, or another driver plays it now
                await asyncio.wait({game})
        if not game.cancelled() and game.exception() is not None:
            log.error("the AI opponent stopped", match=match_id, exc_info=game.exception())
    except asyncio.CancelledError:
        # This instance is stopping: another one may take the AI over at once. If the
        # release fails, the lease runs out on its own (LEASE_SECONDS) instead.
        try:
            await release(services, match_id, driver)
        except Exception:
            log.warning("the AI opponent's lease was not released", match=match_id, exc_info=True)
        raise
    except Exception:
        log.exception("the AI opponent's lease could not be renewed", match=match_id)
    finally:
        game.cancel()


async def _play(services: Services, match_id: int, ai_id: int, level: str) -> None:
    async with services.db.reading() as session:
        row = await session.get(MatchRow, match_id)
        assert row is not None
        version = await session.get(ProblemVersion, row.problem_version_id)
        assert version is not None
        starts_at = battles.load(row.fsm).starts_at or time.time()
        made = await submissions.count_in_match(session, match_id, ai_id)
    language = next(lang for lang in (*LANGUAGE_PREFERENCE, *version.solutions)
                    if lang in version.solutions)  # fmt: skip
    code = await _model_solution(services, version, language)
    # Seeded by the match: a driver taking over draws the same plan.
    steps = ai_offline.plan(code or version.solutions[language], level, random.Random(match_id))
    if code is not None:  # the model's answer is submitted as it came
        steps = [s for s in steps if s.kind == "typing"] + [steps[-1]]
    speed = services.settings.AI_SPEED
    to_skip = made  # submissions an earlier driver made
    resumed_at = time.time()
    for step in steps:
        due = starts_at + step.at / speed
        if step.kind == "submit" and to_skip:
            to_skip -= 1
            continue
        if step.kind == "typing" and due < resumed_at:
            continue  # shown by an earlier driver, or overdue: the next step says more
        await asyncio.sleep(max(0.0, due - time.time()))
        async with services.db.reading() as session:
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


def prompt_language(name: str) -> PromptLanguage:
    """What the model is told of a language: its title and notes, from the judge."""
    language = languages.get(name)
    return PromptLanguage(language.name, language.title, language.fence_tags, language.prompt_notes)


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
        return await ai_solution(
            client, statement, prompt_language(language), version.templates.get(language)
        )
    finally:
        await client.aclose()


async def _submit(services: Services, match_id: int, ai_id: int, language: str, code: str) -> None:
    """Submit as a person does (submissions.submit, in the match)."""
    async with services.db.reading() as session:
        user = await session.get(User, ai_id)
    assert user is not None
    try:
        await submit(services, user, None, language, code,
                     place=live.match_place(services, match_id, ai_id))  # fmt: skip
    except UserError as exc:  # the game ended
        log.info("the AI opponent's submission was refused", match=match_id, reason=exc.key)
