"""An operator's decision on a fair-play flag, and its exact reversal.

`decide` takes a flag once: a conditional UPDATE (... WHERE status = 'open') claims it, so
of two operators pressing at once exactly one decides and the other is told (409
"flag_decided"). Everything the decision does happens in that one transaction: the game
voided (a duel's rating changes taken back exactly, battles.void; a room member off the
leaderboard), the sanction, the flag's record, the audit entry and the player's
notification. After the commit the live pages hear of it (the match's or room's new log
entries) and a banned player's sessions end.

`overturn` undoes a decision exactly (an appeal granted): the sanction lifted, the void
undone (the ratings given back, battles.unvoid), the member back on the leaderboard.
Decide then overturn, with nothing in between, leaves every rating as it was. A
dismissal is not overturned (the player never heard of it; nothing to undo).

A void remembers its source (the "voided" event's `by`: "flag:12", "appeal:3",
"match:40"); a game voided by several stays voided until none of them stands
(`active_voids`). Staff never act on their own case (403 "own_case"): a flag on them,
or a game they played.

Points: a voided game's points are taken back in battles.void (compensating ledger
transactions) and granted again in unvoid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit, notifications, roles, sanctions
from codebattle.accounts.models import BAN, SUSPEND, WARN, Sanction, User
from codebattle.accounts.sessions import SessionStore
from codebattle.battles import eventlog
from codebattle.battles import service as battles
from codebattle.battles.live import channel as match_channel
from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.errors import UserError
from codebattle.fairplay import models as fp
from codebattle.fairplay.models import Flag
from codebattle.progress.seasons import SeasonRules
from codebattle.realtime.pubsub import PubSub
from codebattle.rewards import podiums
from codebattle.rooms import service as rooms
from codebattle.rooms.live import channel as room_channel
from codebattle.rooms.models import RoomEvent, RoomMember
from codebattle.submissions.models import Submission

# A decision's reason, shown to the player: the one limit (the forms' maxlength too).
REASON_MIN, REASON_MAX = 3, 1000
__all__ = [
    "REASON_MAX",
    "REASON_MIN",
    "Outside",
    "active_voids",
    "appeal_link",
    "check_reason",
    "decide",
    "overturn",
    "void_match",
]
VOIDING = (fp.VOID, fp.SUSPEND, fp.BAN)  # the decisions that void the game
SANCTION_OF = {fp.WARN: WARN, fp.SUSPEND: SUSPEND, fp.BAN: BAN}


@dataclass(frozen=True)
class Outside:
    """What a decision tells outside its transaction, after the commit: live pages (the
    app's pub/sub) and a banned player's sessions (the app's session store); and the
    settings a rating change follows (seasons, and PLAN_TIMEZONE for the points' days)."""

    pubsub: PubSub | None = None
    sessions: SessionStore | None = None
    rules: SeasonRules | None = None


@dataclass
class _Effects:
    """The log entries a decision appended, and the users to sign out, for after the commit."""

    matches: dict[int, list[MatchEvent]] = field(default_factory=dict)
    rooms: dict[int, list[RoomEvent]] = field(default_factory=dict)
    sign_out: list[int] = field(default_factory=list)

    async def tell(self, outside: Outside | None) -> None:
        if outside is None:
            return
        if outside.pubsub is not None:
            messages = [
                (match_channel(match_id), eventlog.message(entry))
                for match_id, entries in self.matches.items()
                for entry in entries
            ] + [
                (room_channel(room_id), eventlog.message(entry))
                for room_id, entries in self.rooms.items()
                for entry in entries
            ]
            if messages:
                await outside.pubsub.publish_many(messages)
        if outside.sessions is not None:
            for user_id in self.sign_out:
                await sanctions.end_sessions(outside.sessions, user_id)


def _rules(outside: Outside | None) -> SeasonRules | None:
    return None if outside is None else outside.rules


def _clock(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def check_reason(reason: str) -> str:
    """A decision's reason, shown to the player: 3 to 1000 characters."""
    text = (reason or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise UserError(422, "decision_reason_length", min=REASON_MIN, max=REASON_MAX)
    return text


def appeal_link(flag_id: int) -> str:
    return f"/appeals/new?flag={flag_id}"


async def _game_of(session: AsyncSession, flag: Flag) -> tuple[int | None, int | None]:
    """The flagged game: (match id, room id); a submission's flag through its submission."""
    if flag.match_id is not None or flag.room_id is not None:
        return flag.match_id, flag.room_id
    if flag.submission_id is not None:
        found = (
            await session.execute(
                select(Submission.match_id, Submission.room_id).where(
                    Submission.id == flag.submission_id
                )
            )
        ).first()
        if found is not None:
            return found[0], found[1]
    return None, None


async def _claim(session: AsyncSession, flag_id: int, was: str, **values: Any) -> Flag:
    """Move the flag from status `was` with one conditional UPDATE: of two transactions at
    once, the second finds no row (it waited for the first's lock and sees its status)."""
    result = await session.execute(
        update(Flag)
        .where(Flag.id == flag_id, Flag.status == was)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        exists = await session.scalar(select(Flag.id).where(Flag.id == flag_id))
        await session.rollback()
        if exists is None:
            raise UserError(404, "flag_unknown")
        raise UserError(409, "flag_decided" if was == fp.OPEN else "flag_not_decided")
    flag = await session.scalar(
        select(Flag).where(Flag.id == flag_id).execution_options(populate_existing=True)
    )
    assert flag is not None
    return flag


def _require_staff(actor: User) -> None:
    if not roles.is_staff(actor):
        raise UserError(404, "not_found")


async def _refuse_own_case(session: AsyncSession, actor: User, players: set[int]) -> None:
    """Staff do not judge themselves: 403 "own_case" for a flag on them or their game."""
    if actor.id in players:
        await session.rollback()
        raise UserError(403, "own_case")


async def _people_of(session: AsyncSession, flag: Flag) -> set[int]:
    """The flagged player and everyone who played the flagged game (a duel's players, a
    room's members)."""
    match_id, room_id = await _game_of(session, flag)
    people = {flag.user_id}
    if match_id is not None:
        people.update(await _players(session, match_id))
    if room_id is not None:
        people.update(
            await session.scalars(select(RoomMember.user_id).where(RoomMember.room_id == room_id))
        )
    return people


async def _precheck(session: AsyncSession, flag_id: int, actor: User) -> None:
    """What refuses any action on the flag before it is claimed: the actor's own case.
    (An unknown flag: `_claim` says 404; `overturn` refuses a dismissal itself.)"""
    flag = await session.get(Flag, flag_id)
    if flag is None:
        return
    await _refuse_own_case(session, actor, await _people_of(session, flag))


async def _players(session: AsyncSession, match_id: int) -> list[int]:
    row = await session.get(MatchRow, match_id)
    if row is None:
        return []
    return [int(p["user_id"]) for p in row.fsm["players"] if not p.get("ai")]


async def _elsewhere(
    session: AsyncSession,
    flag: Flag,
    match_id: int | None,
    room_id: int | None,
    *,
    voiding: bool = False,
    open_: bool = False,
) -> bool:
    """Whether another flag on this game is decided with a voiding decision (`voiding`: the
    game stays voided) or still open (`open_`: its rating stays held). In a room only the
    same player's flags count (a room voids one member's game)."""
    kinds: list[ColumnElement[bool]] = []
    if voiding:
        kinds.append((Flag.status == fp.DECIDED) & Flag.decision.in_(VOIDING))
    if open_:
        kinds.append(Flag.status == fp.OPEN)
    query = select(Flag.id).where(Flag.id != flag.id, or_(*kinds))
    if match_id is not None:
        query = query.where(Flag.match_id == match_id)
    elif room_id is not None:
        query = query.where(Flag.room_id == room_id, Flag.user_id == flag.user_id)
    else:
        return False
    return await session.scalar(query.limit(1)) is not None


async def active_voids(session: AsyncSession, match_id: int, *, besides: str = "") -> set[str]:
    """The sources still voiding this game, but `besides`: the flags recorded in its
    "voided" events (or on the game: a void from before sources were recorded) that stand
    decided with a voiding decision, and every other source (a granted appeal, a void
    without a flag: never undone)."""
    sources = set(await battles.void_sources(session, match_id))
    flag_ids = {int(s.split(":", 1)[1]) for s in sources if s.startswith("flag:")}
    flag_ids.discard(0)
    found = await session.scalars(
        select(Flag.id).where(
            or_(Flag.id.in_(flag_ids), Flag.match_id == match_id),
            Flag.status == fp.DECIDED,
            Flag.decision.in_(VOIDING),
        )
    )
    standing = {f"flag:{flag_id}" for flag_id in found}
    others = {s for s in sources if not s.startswith("flag:")}
    return (standing | others) - {besides}


async def decide(
    session: AsyncSession,
    flag_id: int,
    actor: User,
    decision: str,
    reason: str,
    *,
    days: int | None = None,
    allowed_days: Sequence[int] = (),
    now: datetime | None = None,
    outside: Outside | None = None,
) -> Flag:
    """Decide an open flag (dismiss, warn, void, suspend for `days`, ban) in one transaction
    and commit; 409 "flag_decided" if it was decided already (by another operator at the
    same moment, too). `reason` is shown to the player. With `allowed_days` (the setting
    SUSPENSION_DAYS), a suspension's length must be one of them."""
    _require_staff(actor)
    if decision not in fp.DECISIONS:
        raise UserError(422, "decision_unknown")
    text = check_reason(reason)
    if decision == fp.SUSPEND and (
        days is None or days <= 0 or (allowed_days and days not in allowed_days)
    ):
        raise UserError(422, "suspension_days_invalid")
    await _precheck(session, flag_id, actor)
    moment = _clock(now)
    at = moment.timestamp()
    flag = await _claim(
        session, flag_id, fp.OPEN, status=fp.DECIDED, decision=decision, decision_reason=text,
        decided_at=moment, decided_by=actor.id,
    )  # fmt: skip
    player = await session.get(User, flag.user_id)
    if player is None:  # cannot be: a flag's user is deleted with it (CASCADE)
        await session.rollback()
        raise UserError(404, "flag_unknown")
    match_id, room_id = await _game_of(session, flag)
    effects = _Effects()
    link = appeal_link(flag.id)
    if decision in (fp.DISMISS, fp.WARN):
        if match_id is not None and not await _elsewhere(
            session, flag, match_id, None, voiding=True, open_=True
        ):
            released = await battles.release_rating(
                session, match_id, at, commit=False, rules=_rules(outside)
            )
            if released:
                effects.matches[match_id] = released
                for user_id in await _players(session, match_id):
                    notifications.notify(
                        session, user_id, "rating_released", {"match": match_id},
                        f"/matches/{match_id}/replay",
                    )  # fmt: skip
    else:
        await _void(session, flag, match_id, room_id, at, effects, _rules(outside))
    if decision in SANCTION_OF:
        sanction = await sanctions.impose(
            session, player, SANCTION_OF[decision], text, actor.id,
            days=days if decision == fp.SUSPEND else None, flag_id=flag.id, now=moment,
        )  # fmt: skip
        flag.sanction_id = sanction.id
        if decision == fp.BAN:
            effects.sign_out.append(player.id)
    _tell_player(session, flag, decision, text, player, link)
    audit.record(
        session, actor.id, actor.nickname, "flag_decision", player.id, fp.OPEN, decision,
        text, target=f"flag:{flag.id}",
    )  # fmt: skip
    await session.commit()
    await effects.tell(outside)
    return flag


async def _void(
    session: AsyncSession,
    flag: Flag,
    match_id: int | None,
    room_id: int | None,
    at: float,
    effects: _Effects,
    rules: SeasonRules | None,
) -> None:
    """Void the flagged game: a duel for both players (the opponent is told), a room for
    the flagged member only."""
    if match_id is not None:
        entries = await battles.void(
            session, match_id, at, by=f"flag:{flag.id}", commit=False, rules=rules
        )
        if entries:
            effects.matches[match_id] = entries
        if entries and not battles.voided_again(entries):
            for user_id in await _players(session, match_id):
                if user_id != flag.user_id:
                    notifications.notify(
                        session, user_id, "opponent_game_voided", {"match": match_id},
                        f"/matches/{match_id}/replay",
                    )  # fmt: skip
    elif room_id is not None:
        entries_ = await rooms.disqualify(session, room_id, flag.user_id, True, at)
        if entries_:
            effects.rooms[room_id] = entries_
        await podiums.take_back(session, room_id, flag.user_id)


def _tell_player(
    session: AsyncSession, flag: Flag, decision: str, reason: str, player: User, link: str
) -> None:
    """The flagged player hears of every decision against them (a dismissal says nothing:
    the rating release, if any, was told already)."""
    if decision == fp.DISMISS:
        return
    params: dict[str, Any] = {"reason": reason}
    if decision == fp.SUSPEND and player.suspended_until is not None:
        params["until"] = sanctions.local_date(player.suspended_until)
    kind = {fp.WARN: "flag_warned", fp.VOID: "flag_voided", fp.SUSPEND: "flag_suspended",
            fp.BAN: "flag_banned"}[decision]  # fmt: skip
    notifications.notify(session, player.id, kind, params, link)


async def overturn(
    session: AsyncSession,
    flag_id: int,
    actor: User,
    reason: str,
    now: datetime | None = None,
    *,
    outside: Outside | None = None,
) -> Flag:
    """Undo a decided flag exactly (an appeal granted) in one transaction, and commit: its
    sanction lifted, its void undone (unless another decision still voids the game), the
    player told. 409 "flag_not_decided" unless the flag stands decided; 409
    "dismissal_not_overturned" for a dismissal (nothing was done to undo)."""
    _require_staff(actor)
    text = check_reason(reason)
    await _precheck(session, flag_id, actor)
    decided = await session.scalar(select(Flag.decision).where(Flag.id == flag_id))
    if decided == fp.DISMISS:
        await session.rollback()
        raise UserError(409, "dismissal_not_overturned")
    moment = _clock(now)
    at = moment.timestamp()
    flag = await _claim(session, flag_id, fp.DECIDED, status=fp.OVERTURNED, overturned_at=moment)
    match_id, room_id = await _game_of(session, flag)
    effects = _Effects()
    if flag.sanction_id is not None:
        sanction = await session.get(Sanction, flag.sanction_id)
        if sanction is not None and sanction.lifted_at is None:
            await sanctions.lift(session, sanction.id, actor.id, text, moment, notify=False)
    source = f"flag:{flag.id}"
    if flag.decision in VOIDING and match_id is not None:
        if not await active_voids(session, match_id, besides=source):
            # Another flag still open on the game: a rating never applied stays held.
            hold = await _elsewhere(session, flag, match_id, None, open_=True)
            entries = await battles.unvoid(
                session, match_id, at, hold=hold, by=source, commit=False, rules=_rules(outside)
            )
            if entries:
                effects.matches[match_id] = entries
                for user_id in await _players(session, match_id):
                    if user_id != flag.user_id:
                        notifications.notify(
                            session, user_id, "opponent_game_restored", {"match": match_id},
                            f"/matches/{match_id}/replay",
                        )  # fmt: skip
    elif (
        flag.decision in VOIDING
        and room_id is not None
        and not await _elsewhere(session, flag, None, room_id, voiding=True)
    ):
        back = await rooms.disqualify(session, room_id, flag.user_id, False, at)
        if back:
            effects.rooms[room_id] = back
        await podiums.give_back(session, room_id, flag.user_id)
    notifications.notify(session, flag.user_id, "decision_overturned", {"reason": text})
    audit.record(
        session, actor.id, actor.nickname, "flag_overturn", flag.user_id, flag.decision,
        fp.OVERTURNED, text, target=f"flag:{flag.id}",
    )  # fmt: skip
    await session.commit()
    await effects.tell(outside)
    return flag


async def void_match(
    session: AsyncSession,
    match_id: int,
    actor: User,
    reason: str,
    now: datetime | None = None,
    *,
    source: str | None = None,
    outside: Outside | None = None,
) -> list[MatchEvent]:
    """Void a game without a flag (an appeal about a game's result granted: `source`
    "appeal:<id>"; by default "match:<id>"): its rating changes taken back, both players
    told, audited ("match_void", "match:<id>"). A game voided already records the new
    source (it stays voided while any stands; nobody told again). Commits; the log
    entries appended ([] if this source voided it already). 403 "own_case" for a
    player of the game."""
    _require_staff(actor)
    text = check_reason(reason)
    by = source or f"match:{match_id}"
    at = _clock(now).timestamp()
    await _refuse_own_case(session, actor, set(await _players(session, match_id)))
    try:
        entries = await battles.void(
            session, match_id, at, by=by, commit=False, rules=_rules(outside)
        )
    except LookupError:
        await session.rollback()
        raise UserError(404, "match_unknown") from None
    if entries and not battles.voided_again(entries):
        for user_id in await _players(session, match_id):
            notifications.notify(
                session, user_id, "game_voided", {"match": match_id, "reason": text},
                f"/matches/{match_id}/replay",
            )  # fmt: skip
    if entries:
        audit.record(
            session, actor.id, actor.nickname, "match_void", None, None, by, text,
            target=f"match:{match_id}",
        )  # fmt: skip
    await session.commit()
    await _Effects(matches={match_id: entries} if entries else {}).tell(outside)
    return entries
