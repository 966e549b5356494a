"""Achievements: a catalogue kept as data (rewards/data/achievements.toml), each one a rule
of a few kinds evaluated over stored history (matches, their players and events,
submissions, rooms), awarded once per user (one row; the ledger grant and the notification
in the same transaction).

Two ways in, one evaluation (`due`): the event pass (`pass_once`, every few seconds) reads
what happened since its cursors and evaluates the users involved; the backfill evaluates
everyone. Because an award is one row per (user, achievement) and its points are granted
once per key, replaying any stream from 0, running the pass twice, or two instances at once
award nothing twice. Voided games never count, AI users earn nothing, and an achievement
stays earned (its points are never taken back) whatever happens to its games later.

The streams and why they are read as they are:
- "matches": match events by id ("finished", "rated", "restored"): a game counts when it
  finished (unrated games: the AI, speed) or when its rating was settled or restored, which
  can be long after its id was given; events are appended in that order.
- "submissions": submissions by id, read when judged: the cursor stops before the oldest
  one still waiting for its verdict (unless it waited longer than STUCK: a lost job; the
  backfill still finds it if it is ever judged).
- "rooms": room events "ended", by id.
An id given by a transaction that commits after one with a higher id would be skipped by a
plain cursor, so each stream's cursor trails one pass behind the highest id read (`<stream>
:seen` holds that id): what was read last pass is read once more (awarding nothing twice)."""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.accounts.notifications import notify
from codebattle.battles import live
from codebattle.battles.models import MatchEvent, MatchPlayer, MatchRow
from codebattle.battles.service import RATED, RATING_VOIDED
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.fairplay.models import OPEN, Flag
from codebattle.i18n import translate
from codebattle.judge.verdicts import Verdict
from codebattle.progress import earning
from codebattle.rewards import podiums
from codebattle.rewards.models import AchievementCursor, UserAchievement
from codebattle.rooms.models import Room, RoomEvent, RoomMember
from codebattle.submissions.models import DONE, SUBMIT, Submission

if TYPE_CHECKING:
    from codebattle.services import Services

log = structlog.get_logger(__name__)

MATCHES, SUBMISSIONS, ROOMS = "matches", "submissions", "rooms"
STREAMS = (MATCHES, SUBMISSIONS, ROOMS)
MATCH_EVENTS = ("finished", "rated", "restored")  # when a game starts or stops counting
BATCH = 500  # rows a stream reads per pass
STUCK = timedelta(minutes=30)  # a submission unjudged this long no longer holds its cursor
PASS_SECONDS = 5.0
USERS_PER_BACKFILL_TRANSACTION = 200

KINDS = ("wins", "games", "win_streak", "beat_ai", "fast_win", "accepted_in", "room_podium")
KINDS_OF_STREAM = {
    MATCHES: frozenset({"wins", "games", "win_streak", "beat_ai", "fast_win"}),
    SUBMISSIONS: frozenset({"accepted_in"}),
    ROOMS: frozenset({"room_podium"}),
}


@dataclass(frozen=True)
class Achievement:
    """One entry of the catalogue: `rule` is a kind of KINDS, `params` its parameters."""

    code: str
    points: int
    rule: str
    params: dict[str, Any] = field(default_factory=dict)
    hidden: bool = False

    @property
    def icon(self) -> str:
        return f"/static/achievements/{self.code}.svg"


def parse(text: str) -> tuple[Achievement, ...]:
    """The catalogue from its TOML; a mistake in the data fails loudly at load."""
    found: list[Achievement] = []
    for entry in tomllib.loads(text).get("achievement", []):
        spec = dict(entry)
        code, rule = str(spec.pop("code")), str(spec.pop("rule"))
        if rule not in KINDS:
            raise ValueError(f"achievement {code}: unknown rule {rule!r}")
        if not code.isidentifier() or len(code) > 48 or code in [a.code for a in found]:
            raise ValueError(f"achievement {code!r}: a bad or repeated code")
        points, hidden = int(spec.pop("points", 0)), bool(spec.pop("hidden", False))
        found.append(Achievement(code, points, rule, spec, hidden))
    return tuple(found)


@cache
def catalogue() -> tuple[Achievement, ...]:
    return parse((Path(__file__).parent / "data" / "achievements.toml").read_text("utf-8"))


def by_code() -> dict[str, Achievement]:
    return {a.code: a for a in catalogue()}


# --- the rules: each returns the source that completed it ("match:12"), or None ----------


class History:
    """One user's stored history as the rules read it, each part loaded once per `due`
    call and only if a rule asks (the games, the first accepted submission per language).
    `rooms`: the rooms an event named (the room-podium rule looks at those alone); None
    (the backfill, or a stream of another kind) looks at every room of the user."""

    def __init__(
        self, session: AsyncSession, user_id: int, rooms: frozenset[int] | None = None
    ) -> None:
        self.session, self.user_id, self.rooms = session, user_id, rooms
        self._games: list[MatchRow] | None = None
        self._accepted: dict[str, int] | None = None

    async def games(self) -> list[MatchRow]:
        """Every finished, not voided, not flagged game, in the order they finished."""
        if self._games is None:
            self._games = await _games(self.session, self.user_id, rated=False)
        return self._games

    async def rated_games(self) -> list[MatchRow]:
        return [g for g in await self.games() if g.rated]

    async def accepted(self) -> dict[str, int]:
        """language → the first accepted full submission in it (not in a voided game)."""
        if self._accepted is None:
            self._accepted = await _first_accepted(self.session, self.user_id)
        return self._accepted


Check = Callable[[History, Achievement, Settings], Awaitable[str | None]]


def _not_voided() -> Any:
    return or_(MatchRow.rating_state.is_(None), MatchRow.rating_state != RATING_VOIDED)


def _unflagged(user_id: int) -> Any:
    """Not a game with a fair-play flag on this player still waiting for an operator: it
    counts once the flag is dismissed (a void leaves it out for good). Games against the
    AI are never rated, so this, not the rating, keeps a flagged one from counting."""
    return MatchRow.id.not_in(
        select(Flag.match_id).where(
            Flag.user_id == user_id, Flag.match_id.is_not(None), Flag.status == OPEN
        )
    )


def _finished_at() -> Any:
    """When the game finished (its "finished" event): the order of a player's games."""
    return (
        select(func.min(MatchEvent.at))
        .where(MatchEvent.match_id == MatchRow.id, MatchEvent.type == "finished")
        .correlate(MatchRow)
        .scalar_subquery()
    )


async def _games(session: AsyncSession, user_id: int, *, rated: bool) -> list[MatchRow]:
    """The user's finished games that are not voided, in the order they finished."""
    query = (
        select(MatchRow)
        .join(MatchPlayer, MatchPlayer.match_id == MatchRow.id)
        .where(
            MatchPlayer.user_id == user_id,
            MatchRow.state == "finished",
            _not_voided(),
            _unflagged(user_id),
        )
        .order_by(_finished_at(), MatchRow.id)
    )
    if rated:
        query = query.where(MatchRow.rated.is_(True))
    return list(await session.scalars(query))


def _settled(row: MatchRow) -> bool:
    return row.rated and row.rating_state == RATED


def _nth(rows: Sequence[MatchRow], n: int) -> str | None:
    return f"match:{rows[n - 1].id}" if n >= 1 and len(rows) >= n else None


async def _wins(h: History, a: Achievement, s: Settings) -> str | None:
    uid = h.user_id
    wins = [g for g in await h.rated_games() if g.winner_id == uid and _settled(g)]
    return _nth(wins, int(a.params["n"]))


async def _game_count(h: History, a: Achievement, s: Settings) -> str | None:
    rated = bool(a.params.get("rated", False))
    games = await (h.rated_games() if rated else h.games())
    return _nth([g for g in games if _settled(g)] if rated else games, int(a.params["n"]))


async def _win_streak(h: History, a: Achievement, s: Settings) -> str | None:
    """n settled rated wins in a row. A rated game still pending or held breaks the run
    until it is settled (its "rated" event brings the player back here)."""
    run, n, uid = 0, int(a.params["n"]), h.user_id
    for game in await h.rated_games():
        run = run + 1 if game.winner_id == uid and _settled(game) else 0
        if run >= n:
            return f"match:{game.id}"
    return None


async def _beat_ai(h: History, a: Achievement, s: Settings) -> str | None:
    session, uid = h.session, h.user_id
    opponent = (
        select(MatchPlayer.match_id)
        .join(User, User.id == MatchPlayer.user_id)
        .where(User.is_ai.is_(True), User.ai_level == str(a.params["level"]))
    )
    found = await session.scalar(
        select(MatchRow.id)
        .where(
            MatchRow.winner_id == uid,
            MatchRow.state == "finished",
            _not_voided(),
            _unflagged(uid),
            MatchRow.id.in_(opponent),
        )
        .order_by(MatchRow.id)
        .limit(1)
    )
    return None if found is None else f"match:{found}"


def solved_within(row: MatchRow, user_id: int) -> float | None:
    """Seconds from the game's start to the submission with which `user_id` passed every
    test (its time made, as the match counts it); None if they did not solve it."""
    fsm, starts = row.fsm or {}, (row.fsm or {}).get("starts_at")
    tests = (fsm.get("settings") or {}).get("tests")
    for player in fsm.get("players", []):
        if player.get("user_id") == user_id and player.get("passed") == tests:
            at = player.get("passed_at")
            if isinstance(at, int | float) and isinstance(starts, int | float):
                return float(at) - float(starts)
    return None


async def _fast_win(h: History, a: Achievement, s: Settings) -> str | None:
    limit, rated = float(a.params["minutes"]) * 60, bool(a.params.get("rated", False))
    uid = h.user_id
    for game in await (h.rated_games() if rated else h.games()):
        if game.winner_id != uid or game.reason != "solved" or (rated and not _settled(game)):
            continue
        took = solved_within(game, uid)
        if took is not None and 0 <= took <= limit:
            return f"match:{game.id}"
    return None


async def _first_accepted(session: AsyncSession, uid: int) -> dict[str, int]:
    """language → the user's first accepted full submission in it (any mode; not in a
    voided game)."""
    rows = await session.execute(
        select(Submission.language, func.min(Submission.id))
        .outerjoin(MatchRow, MatchRow.id == Submission.match_id)
        .where(
            Submission.user_id == uid,
            Submission.status == DONE,
            Submission.verdict == Verdict.AC.value,
            Submission.kind == SUBMIT,
            or_(Submission.match_id.is_(None), _not_voided()),
        )
        .group_by(Submission.language)
    )
    return {str(language): int(sid) for language, sid in rows.all()}


async def _accepted_in(h: History, a: Achievement, s: Settings) -> str | None:
    """An accepted full submission in one language of each group; the source is the
    submission that completed the set."""
    first = await h.accepted()
    completing = 0
    for group in a.params["languages"]:
        ids = [first[lang] for lang in group if lang in first]
        if not ids:
            return None
        completing = max(completing, min(ids))
    return f"submission:{completing}"


async def _room_podium(h: History, a: Achievement, s: Settings) -> str | None:
    """In the top `places` (by rank, at least one solve) of an ended room that had at
    least ROOM_PODIUM_MIN_PLAYERS human members: podiums' own rule (`podiums.humans`,
    `podiums.podium`), so the points and the achievement never disagree. Only the rooms
    the event named, when evaluating from one."""
    places = int(a.params.get("places", 3))
    least = int(a.params.get("min_players", s.ROOM_PODIUM_MIN_PLAYERS))
    query = (
        select(Room)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .where(
            RoomMember.user_id == h.user_id,
            RoomMember.disqualified.is_(False),
            RoomMember.solved >= 1,
            Room.state == "ended",
        )
        .order_by(Room.id)
    )
    if h.rooms is not None:
        query = query.where(Room.id.in_(h.rooms))
    for room in list(await h.session.scalars(query)):
        if await podiums.humans(h.session, room.id) < least:
            continue
        if any(uid == h.user_id for uid, _ in await podiums.podium(h.session, room, places)):
            return f"room:{room.id}"
    return None


CHECKS: dict[str, Check] = {
    "wins": _wins,
    "games": _game_count,
    "win_streak": _win_streak,
    "beat_ai": _beat_ai,
    "fast_win": _fast_win,
    "accepted_in": _accepted_in,
    "room_podium": _room_podium,
}


async def earned(session: AsyncSession, user_id: int) -> dict[str, UserAchievement]:
    rows = await session.scalars(select(UserAchievement).where(UserAchievement.user_id == user_id))
    return {r.code: r for r in rows}


async def _may_have(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """Only users who may earn (earning.may_earn_user: a person, not deleted, in good
    standing) are evaluated: a suspended one is looked at again by the backfill."""
    user = await session.get(User, user_id)
    return user is not None and earning.may_earn_user(user, now)


async def due(
    session: AsyncSession,
    user_id: int,
    settings: Settings,
    kinds: Iterable[str] = KINDS,
    *,
    rooms: frozenset[int] | None = None,
    now: datetime | None = None,
) -> list[tuple[str, str]]:
    """The achievements (code, source) the user qualifies for now and has not got yet,
    among the rules of these kinds (`rooms`: the rooms an event named; None: all). Users
    who may not earn: none. The user's history is read once, whatever the rules."""
    if not await _may_have(session, user_id, now or datetime.now(UTC)):
        return []
    wanted, have = frozenset(kinds), await earned(session, user_id)
    history = History(session, user_id, rooms)
    found: list[tuple[str, str]] = []
    for achievement in catalogue():
        if achievement.rule not in wanted or achievement.code in have:
            continue
        source = await CHECKS[achievement.rule](history, achievement, settings)
        if source is not None:
            found.append((achievement.code, source))
    return found


async def award(session: AsyncSession, user_id: int, code: str, source: str, now: datetime) -> bool:
    """Give the achievement once: its row (a savepoint insert: a row already there, or one
    another transaction is committing, means it was awarded and nothing else happens), its
    points through the ledger (once per key; only to a user in good standing; never
    reversed) and a notification, all in the caller's transaction. Whether it was new."""
    achievement = by_code()[code]
    if await session.get(UserAchievement, (user_id, code)) is not None:
        return False  # awarded already (committed, or earlier in this transaction)
    try:
        async with session.begin_nested():
            session.add(
                UserAchievement(user_id=user_id, code=code, awarded_at=now, source=source[:64])
            )
    except IntegrityError:
        return False
    await earning.grant(
        session, user_id, key=f"ach:{code}:{user_id}", reason=earning.ACHIEVEMENT,
        amount=achievement.points, params={"code": code}, now=now,
    )  # fmt: skip
    user = await session.get(User, user_id)
    locale = user.locale if user is not None else "en"
    name = translate(f"ach.{code}.name", locale)
    notify(session, user_id, "achievement", {"code": code, "name": name,
           "points": achievement.points}, link=_profile_link(user))  # fmt: skip
    return True


def _profile_link(user: User | None) -> str:
    return f"/users/{user.nickname}#achievements" if user is not None else ""


async def _award_due(
    session: AsyncSession, user_ids: Iterable[int], settings: Settings, kinds: Iterable[str],
    now: datetime, rooms_of: dict[int, set[int]] | None = None,
) -> int:  # fmt: skip
    """Award what is due to these users (`rooms_of`: user → the rooms their events named,
    for the room rules; None: every room)."""
    count = 0
    for user_id in sorted(set(user_ids)):
        named = None if rooms_of is None else frozenset(rooms_of.get(user_id, ()))
        for code, source in await due(session, user_id, settings, kinds, rooms=named, now=now):
            count += await award(session, user_id, code, source, now)
    return count


# --- the event pass ----------------------------------------------------------------------


async def _cursor(session: AsyncSession, stream: str) -> AchievementCursor:
    """The stream's cursor row, locked (one pass at a time across instances); made at 0."""
    query = select(AchievementCursor).where(AchievementCursor.stream == stream)
    row = await session.scalar(query.with_for_update())
    if row is None:
        try:
            async with session.begin_nested():
                session.add(AchievementCursor(stream=stream, position=0))
        except IntegrityError:
            pass  # another instance made it first
        row = await session.scalar(
            query.with_for_update().execution_options(populate_existing=True)
        )
    assert row is not None
    return row


@dataclass(frozen=True)
class Batch:
    """What a stream's pass read: the users to evaluate, the highest id read (None:
    nothing new) and, for rooms, the rooms each user's events named."""

    users: list[int]
    top: int | None
    rooms_of: dict[int, set[int]] | None = None


async def _read_matches(session: AsyncSession, after: int, now: datetime) -> Batch:
    rows = (
        await session.execute(
            select(MatchEvent.id, MatchEvent.match_id)
            .where(MatchEvent.id > after, MatchEvent.type.in_(MATCH_EVENTS))
            .order_by(MatchEvent.id)
            .limit(BATCH)
        )
    ).all()
    if not rows:
        return Batch([], None)
    players = await session.scalars(
        select(MatchPlayer.user_id).where(MatchPlayer.match_id.in_({m for _, m in rows}))
    )
    return Batch(list(players), int(rows[-1][0]))


async def _read_submissions(session: AsyncSession, after: int, now: datetime) -> Batch:
    rows = (
        await session.execute(
            select(Submission.id, Submission.user_id, Submission.status, Submission.verdict,
                   Submission.kind, Submission.created_at)
            .where(Submission.id > after)
            .order_by(Submission.id)
            .limit(BATCH)
        )
    ).all()  # fmt: skip
    if not rows:
        return Batch([], None)
    top: int | None = None
    users: list[int] = []
    for sid, uid, status, verdict, kind, created in rows:
        if status != DONE:
            waiting = created is not None and _aware(created) > now - STUCK
            if waiting and top is None:
                top = int(sid) - 1  # the cursor waits for this verdict
            continue
        if verdict == Verdict.AC.value and kind == SUBMIT:
            users.append(int(uid))
    return Batch(users, int(rows[-1][0]) if top is None else top)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _read_rooms(session: AsyncSession, after: int, now: datetime) -> Batch:
    rows = (
        await session.execute(
            select(RoomEvent.id, RoomEvent.room_id)
            .where(RoomEvent.id > after, RoomEvent.type == "ended")
            .order_by(RoomEvent.id)
            .limit(BATCH)
        )
    ).all()
    if not rows:
        return Batch([], None)
    members = await session.execute(
        select(RoomMember.user_id, RoomMember.room_id).where(
            RoomMember.room_id.in_({r for _, r in rows})
        )
    )
    rooms_of: dict[int, set[int]] = {}
    for user_id, room_id in members.all():
        rooms_of.setdefault(int(user_id), set()).add(int(room_id))
    return Batch(list(rooms_of), int(rows[-1][0]), rooms_of)


Reader = Callable[[AsyncSession, int, datetime], Awaitable[Batch]]
READERS: dict[str, Reader] = {
    MATCHES: _read_matches,
    SUBMISSIONS: _read_submissions,
    ROOMS: _read_rooms,
}


async def _stream_pass(
    session: AsyncSession, stream: str, settings: Settings, now: datetime
) -> int:
    cursor, seen = await _cursor(session, stream), await _cursor(session, f"{stream}:seen")
    batch = await READERS[stream](session, cursor.position, now)
    top = batch.top
    count = await _award_due(
        session, batch.users, settings, KINDS_OF_STREAM[stream], now, batch.rooms_of
    )
    if top is None:  # nothing new: what was seen last pass has settled
        cursor.position = max(cursor.position, seen.position)
    else:
        cursor.position = max(cursor.position, min(seen.position, top))
        seen.position = max(top, cursor.position)
    return count


async def pass_once(db: Database, settings: Settings, now: datetime) -> int:
    """Read each stream since its cursor, award what is due to the users involved and
    advance the cursors, in one transaction. How many achievements were awarded."""
    async with db.session() as session:
        count = 0
        for stream in STREAMS:
            count += await _stream_pass(session, stream, settings, now)
        await session.commit()
    if count:
        log.info("achievements awarded", count=count)
    return count


async def running(services: Services) -> None:
    """The pass, every PASS_SECONDS, for good (runtime.py starts it)."""
    await live.every(
        PASS_SECONDS,
        lambda: pass_once(services.db, services.settings, datetime.now(UTC)),
        "achievements",
    )


async def backfill(db: Database, settings: Settings, now: datetime) -> int:
    """Every rule for every user from the history as stored (the same evaluation as the
    pass): for a site that had games before achievements, or after a catalogue change.
    Commits every USERS_PER_BACKFILL_TRANSACTION users. How many were awarded."""
    async with db.reading() as session:
        users = list(
            await session.scalars(
                select(User.id)
                .where(User.is_ai.is_(False), User.deleted_at.is_(None))
                .order_by(User.id)
            )
        )
    count = 0
    for start in range(0, len(users), USERS_PER_BACKFILL_TRANSACTION):
        async with db.session() as session:
            chunk = users[start : start + USERS_PER_BACKFILL_TRANSACTION]
            count += await _award_due(session, chunk, settings, KINDS, now)
            await session.commit()
    return count


# --- what the profile shows ---------------------------------------------------------------


def format_date(moment: datetime, locale: str, zone: tzinfo) -> str:
    """A day in the reader's language ("Dec 7, 2026", "2026년 12월 7일"), in the site's zone."""
    local = _aware(moment).astimezone(zone)
    month = translate(f"ach.month.{local.month}", locale)
    return translate("ach.date", locale, year=local.year, month=month, day=local.day)


def _text_params(a: Achievement, settings: Settings) -> dict[str, Any]:
    """What a description may name: the rule's numbers, and the room size from settings."""
    numbers = {k: v for k, v in a.params.items() if isinstance(v, int | float | str)}
    return {"players": settings.ROOM_PODIUM_MIN_PLAYERS, **numbers}


def entries(
    have: dict[str, UserAchievement], locale: str, settings: Settings
) -> list[dict[str, Any]]:
    """The catalogue as one user's profile shows it: each earned one with its date (in the
    site's zone, in the reader's words), the others with how to get them; hidden ones only
    once earned."""
    shown: list[dict[str, Any]] = []
    for a in catalogue():
        row = have.get(a.code)
        if row is None and a.hidden:
            continue
        when = _aware(row.awarded_at) if row is not None else None
        shown.append({
            "code": a.code,
            "name": translate(f"ach.{a.code}.name", locale),
            "description": translate(f"ach.{a.code}.desc", locale, **_text_params(a, settings)),
            "icon": a.icon,
            "points": a.points,
            "earned": when is not None,
            "at": when.isoformat() if when is not None else None,
            "date": format_date(when, locale, settings.plan_zone) if when is not None else None,
        })  # fmt: skip
    return shown


async def profile(
    session: AsyncSession, user: User, locale: str, settings: Settings
) -> list[dict[str, Any]]:
    """A profile's achievements (none for an AI: it earns nothing)."""
    if user.is_ai:
        return []
    return entries(await earned(session, user.id), locale, settings)
