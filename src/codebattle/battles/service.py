"""Matches in the database: each event is one transaction that locks the match row, runs the
state machine (battles/fsm.py) and appends what happened to the event log with the next
sequence numbers. Concurrent events on one match are therefore applied one at a time: two
final results arriving at the same moment produce exactly one winner.

PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks: there every
transaction begins IMMEDIATE (db/session.py), taking the database's write lock before it reads.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.battles import fsm
from codebattle.battles.eventlog import EventLog
from codebattle.battles.models import MatchEvent, MatchPlayer, MatchRow
from codebattle.errors import UserError
from codebattle.problems import service as problems
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.progress import earning
from codebattle.progress import service as progress
from codebattle.progress.seasons import SeasonRules
from codebattle.submissions import recording
from codebattle.submissions.service import Target

# matches.rating_state of a finished rated game: waiting for fair play, rated, or held;
# voided by an operator (ops/decisions.py): never rated, or its rating change reversed.
RATING_PENDING, RATED, RATING_HELD = "pending", "rated", "held"
RATING_VOIDED = "voided"


def dump(match: fsm.Match) -> dict[str, Any]:
    data = asdict(match)
    data["rematch_offers"] = sorted(match.rematch_offers)
    return data


def load(data: dict[str, Any]) -> fsm.Match:
    return fsm.Match(
        settings=fsm.Settings(**data["settings"]),
        state=fsm.State(data["state"]),
        players=[fsm.Player(**p) for p in data["players"]],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        winner=data["winner"],
        reason=data["reason"],
        rematch_offers=set(data["rematch_offers"]),
        decide_by=data.get("decide_by"),  # absent from matches stored before it existed
    )


def next_deadline(match: fsm.Match) -> float | None:
    """The earliest moment `fsm.tick` may change this match (for the deadline sweeper)."""
    moments: list[float] = []
    if match.state == fsm.State.countdown and match.starts_at is not None:
        moments.append(match.starts_at)
    if match.state == fsm.State.running and match.ends_at is not None:
        moments.append(match.ends_at)
    if match.state in (fsm.State.countdown, fsm.State.running):
        moments += [
            p.disconnected_at + match.settings.grace
            for p in match.players
            if p.disconnected_at is not None
        ]
    if match.state == fsm.State.judging and match.decide_by is not None:
        moments.append(match.decide_by)
    return min(moments, default=None)


async def create(
    session: AsyncSession,
    *,
    mode: str,
    problem_id: int,
    problem_version_id: int,
    settings: fsm.Settings,
    rated: bool,
    players: Sequence[tuple[int, bool]] = (),
    now: float | None = None,
) -> MatchRow:
    """A new match (flushed, not committed: the caller's transaction creates it). With
    `players` ((user id, is AI) pairs), they join and are ready at once (matchmaking paired
    them): the countdown starts now."""
    moment = time.time() if now is None else now
    match = fsm.Match(settings)
    happened: list[fsm.Event] = []
    for user_id, ai in players:
        happened += fsm.apply(match, {"type": "join", "user": user_id, "ai": ai}, moment)
    for user_id, _ai in players:
        happened += fsm.apply(match, {"type": "ready", "user": user_id}, moment)
    row = MatchRow(
        mode=mode,
        rated=rated,
        problem_id=problem_id,
        problem_version_id=problem_version_id,
        state=match.state,
        fsm=dump(match),
        seq=0,
        next_deadline=next_deadline(match),
    )
    session.add(row)
    await session.flush()
    _append(session, row, happened)
    await session.flush()
    return row


@dataclass(frozen=True)
class MatchSettings:
    """What a new duel is played with (from the app's settings)."""

    duration: float
    countdown: float
    grace: float
    judging_wait: float = 60.0

    def for_problem(self, tests: int) -> fsm.Settings:
        return fsm.Settings(
            players=2,
            duration=self.duration,
            countdown=self.countdown,
            grace=self.grace,
            tests=tests,
            judging_wait=self.judging_wait,
        )


async def start(
    session: AsyncSession,
    version: ProblemVersion,
    settings: MatchSettings,
    *,
    mode: str,
    rated: bool,
    players: Sequence[tuple[int, bool]],
) -> MatchRow:
    """A duel on this problem version with these players, its countdown running."""
    return await create(
        session, mode=mode, problem_id=version.problem_id, problem_version_id=version.id,
        settings=settings.for_problem(version.test_count), rated=rated, players=players,
    )  # fmt: skip


LOG = EventLog(MatchRow, MatchRow.id, MatchEvent, MatchEvent.match_id, MatchEvent.seq)


def _append(session: AsyncSession, row: MatchRow, happened: list[fsm.Event]) -> list[MatchEvent]:
    """Add events to the match's log (and a joining player to the match's players)."""
    for item in happened:
        if item["type"] == "joined":
            session.add(MatchPlayer(match_id=row.id, user_id=item["user"]))
    return LOG.append(session, row, happened)


# Runs in apply's transaction, before its commit, with the match row, the state machine
# after the event and what happened (battles/live.py gives back a game never played).
BeforeCommit = Callable[[AsyncSession, MatchRow, fsm.Match, list[fsm.Event]], Awaitable[None]]


async def apply(
    session: AsyncSession,
    match_id: int,
    event: fsm.Event | None,
    now: float | None = None,
    *,
    before_commit: BeforeCommit | None = None,
    commit: bool = True,
) -> list[MatchEvent]:
    """Apply a player's event (or, with None, just the deadlines) in one transaction and
    return the new log entries. Raises fsm.IllegalEvent (nothing is changed) or LookupError.
    Commits what the session held before, then runs in a transaction of its own;
    `before_commit` runs in that transaction. With `commit=False` it joins the session's
    transaction and leaves the commit to the caller (an IllegalEvent then rolls nothing
    back: the match is unchanged, the caller's work stands).

    A "result" naming its submission (`_verdict_of`) is taken once: a verdict the match
    took before changes nothing and returns no entries, and one it refuses (IllegalEvent,
    LookupError) is marked reported all the same, so nothing passes it on again."""
    moment = time.time() if now is None else now
    verdict_of = _verdict_of(event) if commit else None
    try:
        row = await LOG.locked(session, match_id, join=not commit)
    except LookupError:
        if commit:  # joined: the caller's transaction stands
            await recording.refused(session, verdict_of)
        raise
    if await recording.taken_before(session, verdict_of):
        return []
    match = load(row.fsm)
    try:
        happened = fsm.tick(match, moment) if event is None else fsm.apply(match, event, moment)
    except fsm.IllegalEvent:
        if commit:
            # Nothing of the match changed; under its lock still, the refusal is final.
            await recording.refused(session, verdict_of)
        raise
    if verdict_of is not None:
        await recording.mark_reported(session, [verdict_of], datetime.now(UTC))
    if (
        row.rated
        and row.rating_state != RATING_VOIDED
        and any(e["type"] == "finished" for e in happened)
    ):
        # Rated once fair play has looked at the game (settle_rating): a high flag holds it.
        row.rating_state = RATING_PENDING
    entries = _append(session, row, happened)
    row.fsm = dump(match)
    row.state = match.state
    row.next_deadline = next_deadline(match)
    row.winner_id = match.winner
    row.reason = match.reason
    if before_commit is not None:
        await before_commit(session, row, match, happened)
    if commit:
        await session.commit()
    else:
        await session.flush()
    return entries


def _verdict_of(event: fsm.Event | None) -> int | None:
    """The submission whose verdict this event carries, if it is a result that names it."""
    if event is None or event.get("type") != "result":
        return None
    return recording.verdict_named(event.get("submission"))


async def pending_ratings(session: AsyncSession, limit: int = 50) -> list[int]:
    """Finished rated matches whose rating change waits for fair play, oldest first."""
    return list(
        await session.scalars(
            select(MatchRow.id)
            .where(MatchRow.rating_state == RATING_PENDING)
            .order_by(MatchRow.id)
            .limit(limit)
        )
    )


async def settle_rating(
    session: AsyncSession,
    match_id: int,
    *,
    hold: bool,
    now: float | None = None,
    rules: SeasonRules | None = None,
) -> list[MatchEvent]:
    """Fair play has assessed a finished rated game: rate it (the "rated" event, as players
    saw it at the end before) or, on a high flag, hold its rating change until an operator
    decides ("rating_held"; both players are told the result is under review). Under the
    match's lock, once: a game already settled gives []. Commits."""
    row = await LOG.locked(session, match_id)
    if row.rating_state != RATING_PENDING:
        await session.commit()  # nothing changed; ends the transaction and its lock
        return []
    moment = time.time() if now is None else now
    if hold:
        row.rating_state = RATING_HELD
        happened: list[fsm.Event] = [{"type": "rating_held", "at": moment}]
    else:
        happened = [await _rate_now(session, row, moment, rules)]
    entries = _append(session, row, happened)
    await session.commit()
    return entries


async def _rate_now(
    session: AsyncSession, row: MatchRow, moment: float, rules: SeasonRules | None
) -> fsm.Event:
    """Rate a finished rated game now and grant its points (progress/earning.py, in this
    transaction): the "rated" event (its changes, and `points`: what each player earned)."""
    row.rating_state = RATED
    # The game's time, not the assessment's, counts for the farming window and the day.
    at = await _finished_at(session, row, moment)
    rated = await _rate(session, row.id, load(row.fsm), at, rules)
    results = {int(c["user"]): str(c["reason"]) for c in rated["changes"]}
    earned = await earning.grant_game(session, row.id, results, at, _zone(rules))
    return {**rated, "at": moment, "points": {str(u): n for u, n in earned.items()}}


async def _end(session: AsyncSession, commit: bool) -> None:
    if commit:
        await session.commit()
    else:
        await session.flush()


async def release_rating(
    session: AsyncSession,
    match_id: int,
    now: float | None = None,
    *,
    commit: bool = True,
    rules: SeasonRules | None = None,
) -> list[MatchEvent]:
    """A held game whose review found nothing: rated now (the "rated" event). Anything but
    a held game is left as it is ([]). Under the match's lock; with `commit=False` in the
    caller's transaction (ops/decisions.py decides a flag in one)."""
    row = await LOG.locked(session, match_id, join=not commit)
    if row.rating_state != RATING_HELD:
        await _end(session, commit)
        return []
    moment = time.time() if now is None else now
    entries = _append(session, row, [await _rate_now(session, row, moment, rules)])
    await _end(session, commit)
    return entries


async def void(
    session: AsyncSession,
    match_id: int,
    now: float | None = None,
    *,
    by: str = "",
    commit: bool = True,
    rules: SeasonRules | None = None,
) -> list[MatchEvent]:
    """An operator voids a game: a rated one's rating changes are taken back exactly
    (progress.void_game), a held or pending one is never rated; the "voided" event tells
    the players (arena and replay) and records who voided it (`by`: "flag:12",
    "appeal:3", "match:40"). A game voided already is voided once more by a new source
    (a "voided" event with `was` "voided", nothing else changed): the void stays until
    every source is undone (ops/decisions.py). The same source again, or none, gives [].
    Under the match's lock.

    Points: a rated game's points are taken back here, in this transaction
    (compensating ledger transactions, progress/earning.void_game)."""
    row = await LOG.locked(session, match_id, join=not commit)
    moment = time.time() if now is None else now
    if row.rating_state == RATING_VOIDED:
        if not by or by in [e.data.get("by") for e in await _current_voids(session, match_id)]:
            await _end(session, commit)
            return []
        again = {"type": "voided", "at": moment, "was": RATING_VOIDED, "changes": [], "by": by}
        entries = _append(session, row, [again])
        await _end(session, commit)
        return entries
    was = row.rating_state
    changes = (
        await progress.void_game(session, match_id, moment, season=rules) if was == RATED else []
    )
    if was == RATED:
        await earning.void_game(session, match_id, by=by, now=datetime.fromtimestamp(moment, UTC))
    row.rating_state = RATING_VOIDED
    event = {"type": "voided", "at": moment, "was": was, "changes": changes, "by": by}
    entries = _append(session, row, [event])
    await _end(session, commit)
    return entries


def voided_again(entries: Sequence[MatchEvent]) -> bool:
    """Whether `void` only added a source to a game voided already (nobody to tell)."""
    return bool(entries) and entries[0].data.get("was") == RATING_VOIDED


async def _current_voids(session: AsyncSession, match_id: int) -> list[MatchEvent]:
    """The "voided" events since the game was last restored, oldest first: the first says
    how the game was before; each names one source of the void."""
    events = list(
        await session.scalars(
            select(MatchEvent)
            .where(MatchEvent.match_id == match_id, MatchEvent.type.in_(("voided", "restored")))
            .order_by(MatchEvent.seq)
        )
    )
    restored = max((i for i, e in enumerate(events) if e.type == "restored"), default=-1)
    return events[restored + 1 :]


async def void_sources(session: AsyncSession, match_id: int) -> list[str]:
    """Who voided the game as it stands ("flag:12", "appeal:3", "match:40"), in order;
    [] when it is not voided. A source not recorded (before sources were) is left out."""
    row = await session.get(MatchRow, match_id)
    if row is None or row.rating_state != RATING_VOIDED:
        return []
    found = [str(e.data.get("by") or "") for e in await _current_voids(session, match_id)]
    return [by for by in found if by]


async def unvoid(
    session: AsyncSession,
    match_id: int,
    now: float | None = None,
    *,
    hold: bool = False,
    by: str = "",
    commit: bool = True,
    rules: SeasonRules | None = None,
) -> list[MatchEvent]:
    """A void overturned (the caller checked no other source still voids it; `by` names
    the source undone): the ratings taken back are given back exactly
    (progress.restore_game); a game voided before it was rated is rated now (or, with
    `hold`, held again: another flag on it is still open); an unrated one goes back to
    how it was. The "restored" event. A game not voided gives []."""
    row = await LOG.locked(session, match_id, join=not commit)
    if row.rating_state != RATING_VOIDED:
        await _end(session, commit)
        return []
    moment = time.time() if now is None else now
    voids = await _current_voids(session, match_id)
    was = voids[0].data.get("was") if voids else None
    changes: list[dict[str, Any]] = []
    earned: dict[str, int] = {}
    if was == RATED:
        changes = await progress.restore_game(session, match_id, moment, season=rules)
        row.rating_state = RATED
        earned = await _regrant(session, row, moment, rules)
    elif row.rated and row.state == fsm.State.finished and hold:
        row.rating_state = RATING_HELD
    elif row.rated and row.state == fsm.State.finished:
        rated = await _rate_now(session, row, moment, rules)
        changes, earned = rated["changes"], rated["points"]
    else:
        row.rating_state = was  # an unrated or unfinished game: as it was
    event = {"type": "restored", "at": moment, "changes": changes, "by": by, "points": earned}
    entries = _append(session, row, [event])
    await _end(session, commit)
    return entries


async def _regrant(
    session: AsyncSession, row: MatchRow, moment: float, rules: SeasonRules | None
) -> dict[str, int]:
    """A restored rated game earns its points again (new keys: the game was voided)."""
    at = await _finished_at(session, row, moment)
    earned = await earning.grant_game(session, row.id, _results(load(row.fsm)), at, _zone(rules))
    return {str(u): n for u, n in earned.items()}


async def _finished_at(session: AsyncSession, row: MatchRow, default: float) -> float:
    """When the game finished (its "finished" event), or `default` if it has none."""
    finished = await session.scalar(
        select(MatchEvent.at).where(MatchEvent.match_id == row.id, MatchEvent.type == "finished")
    )
    return default if finished is None else float(finished)


def _zone(rules: SeasonRules | None) -> tzinfo:
    """The site's time zone (PLAN_TIMEZONE), whose days the points' daily caps count in."""
    return (rules or SeasonRules()).zone


def _results(match: fsm.Match) -> dict[int, str]:
    """Each player's result in a finished game: "won", "lost" or "draw"."""
    return {
        p.user_id: "draw" if match.winner is None else "won" if p.user_id == match.winner
        else "lost"
        for p in match.players
    }  # fmt: skip


async def _rate(
    session: AsyncSession, match_id: int, match: fsm.Match, at: float, rules: SeasonRules | None
) -> fsm.Event:
    """The rating change of a finished rated game, as a log event of its own."""
    reasons = _results(match)
    places = {user: 2 if result == "lost" else 1 for user, result in reasons.items()}
    changes = await progress.rate_game(session, match_id, places, reasons, at, season=rules)
    return {"type": "rated", "at": at, "changes": changes}


async def events_since(session: AsyncSession, match_id: int, after_seq: int) -> list[MatchEvent]:
    """The log after `after_seq`, in order: what a reconnecting client missed."""
    return await LOG.since(session, match_id, after_seq)


async def due(session: AsyncSession, now: float) -> list[int]:
    """Matches whose next deadline has passed: the sweeper applies `apply(..., None)`."""
    return list(
        await session.scalars(
            select(MatchRow.id).where(
                MatchRow.next_deadline.is_not(None), MatchRow.next_deadline <= now
            )
        )
    )


async def pick_problem(
    session: AsyncSession, rng: random.Random, *, needs_solution: bool = False
) -> ProblemVersion:
    """A problem for a new match: any problem's current version (with a reference solution
    when an AI plays it)."""
    versions = list(
        await session.scalars(
            select(ProblemVersion)
            .join(Problem, Problem.current_version_id == ProblemVersion.id)
            .where(ProblemVersion.test_count > 0)
            .order_by(ProblemVersion.id)
        )
    )
    if needs_solution:
        versions = [v for v in versions if v.solutions]
    if not versions:
        raise UserError(503, "no_problems_for_match")
    return rng.choice(versions)


async def match_target(
    session: AsyncSession, match_id: int, user_id: int, now: float | None = None
) -> Target:
    """What a player's submission in this match is judged against; refused unless the
    player is in it and it is running by the server's clock (a deadline that passed counts
    even before the sweeper has applied it)."""
    # Locked (as `apply` locks it) before the submission is saved: the check that the match
    # runs, the submission and its "submitted" event happen under one lock, taken in the
    # order every transaction takes them (match, then its submissions).
    try:
        row = await LOG.locked(session, match_id, join=True)
    except LookupError:
        raise UserError(404, "match_unknown") from None
    match = load(row.fsm)
    try:
        player = match.player(user_id)
    except fsm.IllegalEvent:
        raise UserError(403, "not_a_player") from None
    fsm.tick(match, time.time() if now is None else now)  # a copy: nothing is stored
    if match.state != fsm.State.running or player.gave_up:
        raise UserError(409, "match_not_running")
    version = await session.get(ProblemVersion, row.problem_version_id)
    assert version is not None
    return Target(
        row.problem_id, version.id, version.package_key, version.time_limit, version.test_count
    )


async def active_match_of(session: AsyncSession, user_id: int) -> int | None:
    """The unfinished match a player is in, if any (a player is in one game at a time)."""
    rows = await session.execute(
        select(MatchRow.id, MatchRow.fsm)
        .join(MatchPlayer, MatchPlayer.match_id == MatchRow.id)
        .where(
            MatchPlayer.user_id == user_id,
            MatchRow.state.in_(fsm.UNDECIDED),
        )
    )
    for match_id, data in rows.all():
        if any(p["user_id"] == user_id and not p["gave_up"] for p in data["players"]):
            return int(match_id)
    return None


async def match_json(session: AsyncSession, row: MatchRow, locale: str) -> dict[str, Any]:
    """A match as clients see it (never anyone's code)."""
    return (await matches_json(session, [row], locale))[0]


async def matches_json(
    session: AsyncSession, rows: Sequence[MatchRow], locale: str
) -> list[dict[str, Any]]:
    """Matches as clients see them, in three queries whatever their number (lists)."""
    matches = [load(row.fsm) for row in rows]
    ids = sorted({p.user_id for match in matches for p in match.players})
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}
    ratings = await progress.standings(session, ids)
    cards = await problems.version_cards(session, (row.problem_version_id for row in rows), locale)
    return [
        {
            "id": row.id,
            "mode": row.mode,
            "rated": row.rated,
            "state": match.state,
            "seq": row.seq,
            "problem": cards[row.problem_version_id],
            "players": [
                {
                    "id": p.user_id,
                    "nickname": users[p.user_id].nickname if p.user_id in users else "?",
                    "ai": p.ai,
                    "rating": None if p.ai else ratings[p.user_id].display,
                    # New accounts' ratings are provisional (docs/ratings.md).
                    "provisional": None if p.ai else ratings[p.user_id].provisional,
                    "passed": p.passed,
                    "connected": p.connected,
                    "gave_up": p.gave_up,
                }
                for p in match.players
            ],
            "starts_at": match.starts_at,
            "ends_at": match.ends_at,
            "duration": match.settings.duration,
            "winner": match.winner,
            "reason": match.reason,
        }
        for row, match in zip(rows, matches, strict=True)
    ]


async def note(
    session: AsyncSession, match_id: int, kind: str, data: dict[str, Any]
) -> list[MatchEvent]:
    """Append an event the state machine does not take (e.g. the rematch's new match) to
    the log, under the same lock as every transition."""
    row = await LOG.locked(session, match_id)
    entries = _append(session, row, [{"type": kind, "at": time.time(), **data}])
    await session.commit()
    return entries


async def recent_matches(
    session: AsyncSession, *, live: bool = False, user_id: int | None = None, limit: int = 20
) -> list[MatchRow]:
    """Live matches (for spectators), or a player's latest ones (their history)."""
    query = select(MatchRow).order_by(MatchRow.id.desc()).limit(limit)
    if live:
        query = query.where(MatchRow.state.in_(fsm.UNDER_WAY))
    if user_id is not None:
        query = query.join(MatchPlayer, MatchPlayer.match_id == MatchRow.id).where(
            MatchPlayer.user_id == user_id
        )
    return list(await session.scalars(query))
