"""Matches in motion: apply an event and publish what happened; the server's own loops (the
deadline sweeper and the matchmaker, one of each per API instance, safe together because
every change is one locked transaction); and judge results turned into match events.

Logged events carry a sequence number (clients resume from it). Ephemeral messages (typing
activity, judging progress, chat) carry none and are not replayed on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle import logs
from codebattle.accounts import plans, sanctions
from codebattle.accounts.models import User
from codebattle.battles import chat, eventlog, fsm, lobby, matchmaking
from codebattle.battles import service as battles
from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.db import outage
from codebattle.errors import UserError
from codebattle.rooms import live as rooms_live
from codebattle.services import Services
from codebattle.submissions.recording import Recorded
from codebattle.submissions.service import Target
from codebattle.submissions.submit import Announce, Place

log = structlog.get_logger(__name__)


def channel(match_id: int) -> str:
    return f"match:{match_id}"


event_message = eventlog.message  # a log entry as clients receive it (matches and rooms)


async def publish(services: Services, match_id: int, entries: list[MatchEvent]) -> None:
    await services.pubsub.publish_many(
        [(channel(match_id), eventlog.message(entry)) for entry in entries]
    )


async def delete_chat(services: Services, moderator: User, match_id: int, message_id: int) -> None:
    """A moderator removes a chat message; every client of the match drops it."""
    async with services.db.session() as session:
        await chat.delete(session, moderator, match_id, message_id)
    await publish_ephemeral(services, match_id, {"type": "chat_deleted", "id": message_id})


async def publish_ephemeral(services: Services, match_id: int, message: dict[str, Any]) -> None:
    await services.pubsub.publish(
        channel(match_id), {"v": 1, **message, "server_time": time.time()}
    )


async def act(services: Services, match_id: int, event: fsm.Event | None) -> list[MatchEvent]:
    """Apply an event (None: only the deadlines) to a match and publish what happened."""
    with logs.bound(match_id=match_id):  # on the lines logged meanwhile
        async with services.db.session() as session:
            entries = await battles.apply(
                session, match_id, event, before_commit=_games_back(services)
            )
        await publish(services, match_id, entries)
    return entries


def _games_back(services: Services) -> battles.BeforeCommit:
    """In the transaction that cancels a game before it started (fsm.never_played), give
    each human player back the day's game it took, on the plan day the match was created.
    Only the transition that cancels does it (a match over takes no more events), so a
    game is given back once."""

    async def give_back(
        session: AsyncSession, row: MatchRow, match: fsm.Match, happened: list[fsm.Event]
    ) -> None:
        if not any(e["type"] == "cancelled" for e in happened) or not fsm.never_played(match):
            return
        settings = services.settings
        day = plans.game_day(row.created_at, settings)
        for player in match.players:
            user = None if player.ai else await session.get(User, player.user_id)
            if user is not None:
                await plans.give_back_game(session, user, settings, datetime.now(UTC), day=day)

    return give_back


async def every(seconds: float, step: Callable[[], Awaitable[Any]], what: str) -> None:
    """Run `step` every `seconds` for good; a failure is logged and the next one tried."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await step()
        except Exception as exc:
            if outage.is_unavailable(exc):  # one warning per outage, not a traceback a pass
                outage.report(exc, what)
            else:
                log.exception("background step failed; retrying", step=what)


async def sweep_deadlines(services: Services) -> None:
    """The server ends countdowns, games, grace periods and rooms on time, with or without
    clients."""
    now = time.time()
    async with services.db.reading() as session:  # no write lock for a look
        due = await battles.due(session, now)
    for match_id in due:
        with contextlib.suppress(LookupError):
            await act(services, match_id, None)
    await rooms_live.sweep(services, now)


def match_place(services: Services, match_id: int, user_id: int) -> Place:
    """A submission in a match: judged against the match's problem version while the match
    runs; logged as `submitted` in the transaction that saves it, so the match waits for
    its verdict whatever dies after."""

    async def target(session: AsyncSession) -> Target:
        return await battles.match_target(session, match_id, user_id)

    async def before_judging(
        session: AsyncSession, submission_id: int, made_at: float
    ) -> Announce | None:
        event = {"type": "submitted", "user": user_id, "submission": submission_id,
                 "made_at": made_at}  # fmt: skip
        try:
            entries = await battles.apply(session, match_id, event, commit=False)
        except fsm.IllegalEvent:  # the game ended meanwhile: no result counts
            return None

        async def announce() -> None:
            await publish(services, match_id, entries)

        return announce

    return Place(target, match_id=match_id, before_judging=before_judging)


async def on_judge_results(services: Services, results: list[Recorded]) -> None:
    """Judge results of submissions made in matches and rooms. Each verdict names its
    submission, so its game takes it once however often it comes (a redelivered event,
    two API instances, runtime.report_verdicts passing on one that was never taken)."""
    in_rooms = [r for r in results if r.room_id is not None]
    if in_rooms:
        await _room_results(services, in_rooms)
    await _match_results(services, [r for r in results if r.match_id is not None])


async def _room_results(services: Services, results: list[Recorded]) -> None:
    for result in results:
        if result.change != "done" or result.room_id is None:
            continue
        try:
            await rooms_live.act(
                services, result.room_id, None, "result", user_id=result.user_id,
                version_id=result.version_id, verdict=result.verdict,
                submitted_at=result.made_at, submission_id=result.submission_id,
            )  # fmt: skip
        except UserError as exc:  # the room is gone (marked reported: not passed on again)
            log.info("room result ignored", room=result.room_id, reason=exc.key)


async def _match_results(services: Services, results: list[Recorded]) -> None:
    """Progress while judging (ephemeral): its stage ("compiling", then "running") and the
    tests done; then the final result, which the match's state machine takes as a "result"
    event."""
    latest: dict[int, Recorded] = {}
    for result in results:
        if result.change in ("status", "test"):
            latest[result.submission_id] = result
    for result in latest.values():
        assert result.match_id is not None
        await publish_ephemeral(
            services,
            result.match_id,
            {
                "type": "judging",
                "user": result.user_id,
                "submission": result.submission_id,
                "stage": result.status,
                # 0 for a status change: pages keep the highest count of a submission
                # (a late "compiled" never takes it back).
                "tests_done": result.test["index"] + 1 if result.test is not None else 0,
            },
        )
    for result in results:
        if result.change != "done" or result.match_id is None:
            continue
        event = {
            "type": "result",
            "user": result.user_id,
            "passed": result.tests_passed,
            "submission": result.submission_id,
            "verdict": result.verdict,
            # It counts by when it was made: the match waits for it if made in time.
            "made_at": result.made_at,
        }
        try:
            await act(services, result.match_id, event)
        # Made too late, or waited too long: refused for good (apply marked it reported).
        except (fsm.IllegalEvent, LookupError) as exc:
            log.info("late match result ignored", match=result.match_id, reason=str(exc))


def match_settings(services: Services) -> battles.MatchSettings:
    s = services.settings
    return battles.MatchSettings(
        s.MATCH_SECONDS, s.MATCH_COUNTDOWN_SECONDS, s.DISCONNECT_GRACE_SECONDS,
        s.MATCH_JUDGING_WAIT_SECONDS,
    )  # fmt: skip


def queue_rules(services: Services) -> matchmaking.Rules:
    return matchmaking.Rules(ai_after=services.settings.QUEUE_AI_OFFER_SECONDS)


async def pair_now(services: Services) -> list[int]:
    async with services.db.reading() as session:  # most of the time nobody waits
        if await lobby.waiting(session) < 2:
            return []
    async with services.db.session() as session:
        created = await lobby.pair(
            session, match_settings(services), queue_rules(services), random.Random(),
            limits=services.settings,
        )  # fmt: skip
    for match_id in created:
        log.info("ranked match paired", match=match_id)
    return created


async def rematch(
    services: Services, old: MatchRow, players: list[int], now: datetime | None = None
) -> int:
    """The same players again, on another problem, rated as the first game was; it counts
    against each player's daily games (UserError "daily_games_used" when one has none).
    A rated rematch is ranked play: a suspended or banned player is refused as the ranked
    queue refuses them (sanctions.check_ranked: 403 "suspended" or "account_banned")."""
    async with services.db.session() as session:
        now = now or datetime.now(UTC)
        for user_id in players:
            user = await session.get(User, user_id)
            if user is not None and old.rated:
                sanctions.check_ranked(user, now, services.settings.plan_zone)
        for user_id in players:
            user = await session.get(User, user_id)
            if user is not None:
                await plans.take_game(session, user, services.settings, now)
        version = await battles.pick_problem(session, random.Random())
        row = await battles.start(
            session, version, match_settings(services), mode=old.mode, rated=old.rated,
            players=[(uid, False) for uid in players],
        )  # fmt: skip
        await session.commit()
        return row.id
