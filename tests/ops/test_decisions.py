"""Decisions on fair-play flags (ops/decisions.py), on SQLite and PostgreSQL: every decision
and its exact reversal (ratings compared with ==), a held rating released by a dismissal,
two operators deciding one flag at once (exactly one wins), a room member voided off the
leaderboard, a game voided without a flag, the "voided" event in the match's log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from codebattle.accounts import profiles
from codebattle.accounts.models import AuditEntry, Notification, Sanction, User
from codebattle.battles import lobby
from codebattle.battles import service as battles
from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.fairplay import models as fp
from codebattle.fairplay.models import Flag
from codebattle.ops import decisions
from codebattle.problems.models import ProblemVersion
from codebattle.progress.models import PlayerRating, RatingChange
from codebattle.progress.ratings import Rating
from codebattle.rooms import service as rooms
from codebattle.rooms.models import RoomMember
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_match, make_problem_version, make_room, make_user

T0 = 1_700_000_000.0
NOW = datetime.fromtimestamp(T0 + 3600, UTC)
REASON = "Copied the reference solution."


@pytest.fixture
async def version(db: Database, tmp_path: Path) -> ProblemVersion:
    async with db.session() as session:
        found = await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        await session.commit()
        return found


async def _user(db: Database, name: str, role: str = "player") -> User:
    async with db.session() as session:
        user = await make_user(session, name)
        user.role = role
        await session.commit()
        return user


async def _play(
    db: Database, version: ProblemVersion, winner: int, loser: int, at: float, *,
    hold: bool = False,
) -> int:  # fmt: skip
    """A ranked game the loser gives up, then settled by fair play: rated, or held."""
    async with db.session() as session:
        row = await make_match(session, version, [winner, loser], now=at)
        await session.commit()
        match_id = row.id
    async with db.session() as session:
        await battles.apply(session, match_id, None, at + 5)
        await battles.apply(session, match_id, {"type": "give_up", "user": loser}, at + 6)
        await battles.settle_rating(session, match_id, hold=hold, now=at + 7)
    return match_id


async def _flag(
    db: Database, user_id: int, *, match_id: int | None = None, room_id: int | None = None,
    key: str | None = None,
) -> int:  # fmt: skip
    async with db.session() as session:
        flag = Flag(
            key=key or f"risk:test:{match_id}:{room_id}:{user_id}", source="risk", level="high",
            score=0.9, user_id=user_id, match_id=match_id, room_id=room_id, reasons=[],
        )  # fmt: skip
        session.add(flag)
        await session.commit()
        return flag.id


Snapshot = dict[int, tuple[float, float, int, int]]


async def _ratings(db: Database, *users: int) -> Snapshot:
    async with db.reading() as session:
        rows = await session.scalars(select(PlayerRating).where(PlayerRating.user_id.in_(users)))
        return {r.user_id: (r.mu, r.sigma, r.display, r.games) for r in rows}


async def _state(db: Database, match_id: int) -> str | None:
    async with db.reading() as session:
        row = await session.get(MatchRow, match_id)
        assert row is not None
        return row.rating_state


async def _events(db: Database, match_id: int) -> list[str]:
    async with db.reading() as session:
        return [e.type for e in await battles.events_since(session, match_id, 0)]


async def _notes(db: Database, user_id: int) -> list[Notification]:
    async with db.reading() as session:
        return list(
            await session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


async def _decide(db: Database, flag_id: int, actor: User, decision: str, **kw: Any) -> Flag:
    async with db.session() as session:
        return await decisions.decide(session, flag_id, actor, decision, REASON, now=NOW, **kw)


async def _overturn(db: Database, flag_id: int, actor: User, **kw: Any) -> Flag:
    async with db.session() as session:
        return await decisions.overturn(session, flag_id, actor, "Appeal granted.", NOW, **kw)


class FakePubSub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.sent.append((channel, message))

    async def publish_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        self.sent += messages


class FakeStore:
    def __init__(self) -> None:
        self.ended: list[int] = []

    async def delete_user(self, user_id: int, keep: str | None = None) -> int:
        self.ended.append(user_id)
        return 1


@pytest.mark.parametrize("decision", [fp.VOID, fp.SUSPEND, fp.BAN])
async def test_a_voiding_decision_and_its_overturn_are_exact(
    db: Database, version: ProblemVersion, decision: str
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    await _play(db, version, ann.id, bob.id, T0)  # both have ratings before the game
    before = await _ratings(db, ann.id, bob.id)
    match_id = await _play(db, version, bob.id, ann.id, T0 + 600)
    after_game = await _ratings(db, ann.id, bob.id)
    assert after_game != before
    flag_id = await _flag(db, bob.id, match_id=match_id)
    pubsub = FakePubSub()
    flag = await _decide(
        db, flag_id, op, decision, days=7 if decision == fp.SUSPEND else None,
        outside=decisions.Outside(pubsub, None),  # type: ignore[arg-type]
    )  # fmt: skip
    assert (flag.status, flag.decision, flag.decision_reason) == (fp.DECIDED, decision, REASON)
    assert flag.decided_by == op.id and flag.decided_at == NOW
    assert await _ratings(db, ann.id, bob.id) == before  # exactly: mu, sigma, display, games
    assert await _state(db, match_id) == battles.RATING_VOIDED
    assert (await _events(db, match_id))[-1] == "voided"
    assert [c for c, m in pubsub.sent if m["event"]["type"] == "voided"] == [f"match:{match_id}"]
    async with db.reading() as session:
        reasons = [
            r.reason for r in await session.scalars(
                select(RatingChange).where(RatingChange.match_id == match_id)
                .order_by(RatingChange.id)
            )
        ]  # fmt: skip
        assert sorted(reasons) == ["lost", "voided", "voided", "won"]
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.target == f"flag:{flag_id}")
        )
        assert entry is not None
        assert (entry.action, entry.subject_user_id, entry.new) == (
            "flag_decision",
            bob.id,
            decision,
        )
        player = await session.get(User, bob.id)
        assert player is not None
        if decision == fp.VOID:
            assert flag.sanction_id is None
        else:
            sanction = await session.get(Sanction, flag.sanction_id)
            assert (
                sanction is not None and sanction.kind == decision and sanction.flag_id == flag_id
            )
        if decision == fp.SUSPEND:
            assert player.suspended_until == NOW + timedelta(days=7)
        if decision == fp.BAN:
            assert player.banned_at == NOW
            assert profiles.restriction(player) == "account_banned"
    mine = await _notes(db, bob.id)
    kind = {fp.VOID: "flag_voided", fp.SUSPEND: "flag_suspended", fp.BAN: "flag_banned"}[decision]
    assert [(n.kind, n.link) for n in mine] == [(kind, f"/appeals/new?flag={flag_id}")]
    assert mine[0].params["reason"] == REASON
    assert [n.kind for n in await _notes(db, ann.id)] == ["opponent_game_voided"]

    flag = await _overturn(db, flag_id, op)
    assert flag.status == fp.OVERTURNED and flag.overturned_at == NOW
    assert await _ratings(db, ann.id, bob.id) == after_game  # exactly as the game left them
    assert await _state(db, match_id) == battles.RATED
    assert (await _events(db, match_id))[-1] == "restored"
    async with db.reading() as session:
        player = await session.get(User, bob.id)
        assert player is not None
        assert player.banned_at is None and player.suspended_until is None
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target == f"flag:{flag_id}")
            )
        )
        assert sorted(actions) == ["flag_decision", "flag_overturn"]
    assert (await _notes(db, bob.id))[-1].kind == "decision_overturned"


async def test_a_void_after_later_games_takes_back_only_that_game(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    first = await _play(db, version, bob.id, ann.id, T0)
    after_first = await _ratings(db, ann.id, bob.id)
    await _play(db, version, ann.id, bob.id, T0 + 600)
    current = await _ratings(db, ann.id, bob.id)
    await _decide(db, await _flag(db, bob.id, match_id=first), op, fp.VOID)
    now = await _ratings(db, ann.id, bob.id)
    default = Rating()
    for user in (ann.id, bob.id):
        took = (after_first[user][0] - default.mu, after_first[user][1] - default.sigma)
        assert now[user][0] == pytest.approx(current[user][0] - took[0], abs=1e-12)
        assert now[user][1] == pytest.approx(current[user][1] - took[1], abs=1e-12)
        assert now[user][2] == Rating(now[user][0], now[user][1]).display
        assert now[user][3] == current[user][3] - 1


async def test_dismiss_releases_a_held_rating_unless_another_flag_is_open(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0, hold=True)
    assert await _state(db, match_id) == battles.RATING_HELD
    on_ann = await _flag(db, ann.id, match_id=match_id)
    on_bob = await _flag(db, bob.id, match_id=match_id)
    await _decide(db, on_ann, op, fp.DISMISS)
    assert await _state(db, match_id) == battles.RATING_HELD  # Bob's flag is still open
    assert await _notes(db, ann.id) == []
    flag = await _decide(db, on_bob, op, fp.WARN)
    assert await _state(db, match_id) == battles.RATED
    assert (await _events(db, match_id))[-1] == "rated"
    assert set(await _ratings(db, ann.id, bob.id)) == {ann.id, bob.id}
    assert [n.kind for n in await _notes(db, ann.id)] == ["rating_released"]
    assert [n.kind for n in await _notes(db, bob.id)] == ["rating_released", "flag_warned"]
    async with db.reading() as session:
        sanction = await session.get(Sanction, flag.sanction_id)
        assert sanction is not None and sanction.kind == "warn" and sanction.ends_at is None
    await _overturn(db, on_bob, op)  # the warning lifted; the rating stands
    async with db.reading() as session:
        sanction = await session.get(Sanction, flag.sanction_id)
        assert sanction is not None and sanction.lifted_at == NOW
    assert await _state(db, match_id) == battles.RATED


async def test_a_held_game_voided_is_never_rated_and_its_overturn_rates_it(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0, hold=True)
    flag_id = await _flag(db, ann.id, match_id=match_id)
    await _decide(db, flag_id, op, fp.VOID)
    assert await _ratings(db, ann.id, bob.id) == {}
    async with db.session() as session:  # the fair-play pass cannot rate it now
        assert await battles.settle_rating(session, match_id, hold=False) == []
        assert await battles.release_rating(session, match_id) == []
    await _overturn(db, flag_id, op)
    assert await _state(db, match_id) == battles.RATED
    assert set(await _ratings(db, ann.id, bob.id)) == {ann.id, bob.id}


async def test_two_operators_deciding_at_once_one_wins(
    db: Database, version: ProblemVersion
) -> None:
    op1, op2 = await _user(db, "opal", "operator"), await _user(db, "oscar", "admin")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0)
    flag_id = await _flag(db, bob.id, match_id=match_id)

    async def press(actor: User, decision: str) -> str:
        async with db.session() as session:
            try:
                await decisions.decide(session, flag_id, actor, decision, REASON, now=NOW)
            except UserError as exc:
                return exc.key
            return decision

    outcomes = await asyncio.gather(press(op1, fp.VOID), press(op2, fp.DISMISS))
    assert sorted(outcomes) in (["flag_decided", fp.VOID], [fp.DISMISS, "flag_decided"])
    async with db.reading() as session:
        flag = await session.get(Flag, flag_id)
        assert flag is not None and flag.decision in outcomes
        audits = list(
            await session.scalars(
                select(AuditEntry.id).where(AuditEntry.target == f"flag:{flag_id}")
            )
        )
        assert len(audits) == 1
    voided = flag.decision == fp.VOID
    assert (await _state(db, match_id) == battles.RATING_VOIDED) == voided


async def test_decide_refuses_what_it_should(db: Database, version: ProblemVersion) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0)
    flag_id = await _flag(db, bob.id, match_id=match_id)
    cases: list[tuple[User, str, str, dict[str, Any], str]] = [
        (ann, fp.VOID, REASON, {}, "not_found"),  # a player: as if no such page
        (op, "shrug", REASON, {}, "decision_unknown"),
        (op, fp.VOID, "no", {}, "decision_reason_length"),
        (op, fp.SUSPEND, REASON, {}, "suspension_days_invalid"),
        (op, fp.SUSPEND, REASON, {"days": 5, "allowed_days": [1, 7]}, "suspension_days_invalid"),
    ]
    for actor, decision, reason, kw, key in cases:
        async with db.session() as session:
            with pytest.raises(UserError) as caught:
                await decisions.decide(session, flag_id, actor, decision, reason, now=NOW, **kw)
        assert caught.value.key == key
    async with db.session() as session:
        with pytest.raises(UserError) as caught:
            await decisions.decide(session, 999_999, op, fp.VOID, REASON, now=NOW)
    assert (caught.value.status, caught.value.key) == (404, "flag_unknown")
    async with db.session() as session:
        with pytest.raises(UserError) as caught:
            await decisions.overturn(session, flag_id, op, REASON, NOW)
    assert (caught.value.status, caught.value.key) == (409, "flag_not_decided")
    await _decide(db, flag_id, op, fp.DISMISS)
    async with db.session() as session:
        with pytest.raises(UserError) as caught:
            await decisions.decide(session, flag_id, op, fp.VOID, REASON, now=NOW)
    assert (caught.value.status, caught.value.key) == (409, "flag_decided")
    assert await _state(db, match_id) == battles.RATED


async def test_a_suspended_player_is_refused_by_the_ranked_queue(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0)
    flag_id = await _flag(db, bob.id, match_id=match_id)
    await _decide(db, flag_id, op, fp.SUSPEND, days=3)
    async with db.session() as session:
        with pytest.raises(UserError) as caught:
            await lobby.join(session, bob.id, NOW.timestamp() + 60)
    until = (NOW + timedelta(days=3)).astimezone(profiles.SEOUL).date().isoformat()
    assert (caught.value.status, caught.value.key, caught.value.params) == (
        403, "suspended", {"until": until},
    )  # fmt: skip
    async with db.session() as session:  # the suspension over: ranked play again
        ticket = await lobby.join(session, bob.id, (NOW + timedelta(days=3, seconds=1)).timestamp())
        assert ticket.user_id == bob.id


async def test_a_ban_signs_the_player_out(db: Database, version: ProblemVersion) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0)
    store = FakeStore()
    flag_id = await _flag(db, bob.id, match_id=match_id)
    await _decide(db, flag_id, op, fp.BAN, outside=decisions.Outside(None, store))  # type: ignore[arg-type]
    assert store.ended == [bob.id]


async def test_a_room_flag_voids_the_member_off_the_leaderboard(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    host, ann, bob = await _user(db, "host"), await _user(db, "ann"), await _user(db, "bob")
    async with db.session() as session:
        room = await make_room(session, host)
        await session.commit()
        room_id, code = room.id, room.code
    for member in (ann, bob):
        async with db.session() as session:
            await rooms.change(session, room_id, member, "join", code=code)
    flag_id = await _flag(db, bob.id, room_id=room_id)
    pubsub = FakePubSub()
    await _decide(db, flag_id, op, fp.VOID, outside=decisions.Outside(pubsub, None))  # type: ignore[arg-type]
    async with db.reading() as session:
        room_row = await rooms.visible(session, room_id, host)
        board = await rooms.leaderboard(session, room_row)
        assert [row["user"] for row in board] == [ann.id]
        member = await session.get(RoomMember, (room_id, bob.id))
        assert member is not None and member.disqualified
    assert [(c, m["event"]["type"], m["event"]["user"]) for c, m in pubsub.sent] == [
        (f"room:{room_id}", "disqualified", bob.id)
    ]
    await _overturn(db, flag_id, op)
    async with db.reading() as session:
        room_row = await rooms.visible(session, room_id, host)
        board = await rooms.leaderboard(session, room_row)
        assert sorted(row["user"] for row in board) == sorted([ann.id, bob.id])
        last = (await rooms.events_since(session, room_id, 0))[-1]
        assert last.type == "reinstated" and last.data["row"]["user"] == bob.id


async def test_void_match_without_a_flag_is_audited(db: Database, version: ProblemVersion) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    await _play(db, version, ann.id, bob.id, T0)
    before = await _ratings(db, ann.id, bob.id)
    match_id = await _play(db, version, bob.id, ann.id, T0 + 600)
    async with db.session() as session:
        entries = await decisions.void_match(session, match_id, op, "The result was wrong.", NOW)
    assert [e.type for e in entries] == ["voided"]
    assert entries[0].data["was"] == battles.RATED and len(entries[0].data["changes"]) == 2
    assert await _ratings(db, ann.id, bob.id) == before
    async with db.session() as session:  # once: a voided game is left as it is
        assert await decisions.void_match(session, match_id, op, "Again, please.", NOW) == []
    async with db.reading() as session:
        audits = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.target == f"match:{match_id}")
            )
        )
        assert [(a.action, a.actor_id) for a in audits] == [("match_void", op.id)]
        logged = await session.scalar(
            select(MatchEvent).where(MatchEvent.match_id == match_id, MatchEvent.type == "voided")
        )
        assert logged is not None
    assert [n.kind for n in await _notes(db, ann.id)] == ["game_voided"]
    async with db.session() as session:
        with pytest.raises(UserError) as caught:
            await decisions.void_match(session, 999_999, op, "No such game.", NOW)
    assert caught.value.key == "match_unknown"


async def _void_match(db: Database, match_id: int, actor: User, **kw: Any) -> list[MatchEvent]:
    async with db.session() as session:
        return await decisions.void_match(session, match_id, actor, "The result was wrong.", NOW,
                                          **kw)  # fmt: skip


async def test_an_overturned_flag_leaves_a_game_an_appeal_voided(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    await _play(db, version, ann.id, bob.id, T0)
    before = await _ratings(db, ann.id, bob.id)
    match_id = await _play(db, version, bob.id, ann.id, T0 + 600)
    flag_id = await _flag(db, bob.id, match_id=match_id)
    await _decide(db, flag_id, op, fp.VOID)
    again = await _void_match(db, match_id, op, source="appeal:3")  # voided already: recorded
    assert [(e.type, e.data["by"], e.data["was"]) for e in again] == [
        ("voided", "appeal:3", battles.RATING_VOIDED)
    ]
    assert await _void_match(db, match_id, op, source="appeal:3") == []  # the same source
    async with db.reading() as session:
        assert await decisions.active_voids(session, match_id) == {f"flag:{flag_id}", "appeal:3"}
    await _overturn(db, flag_id, op)
    assert await _state(db, match_id) == battles.RATING_VOIDED  # the appeal's void stands
    assert await _ratings(db, ann.id, bob.id) == before
    async with db.reading() as session:
        assert await decisions.active_voids(session, match_id) == {"appeal:3"}
    assert [n.kind for n in await _notes(db, ann.id)] == ["opponent_game_voided"]


async def test_two_voiding_flags_and_an_appeal_un_void_only_when_none_stands(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    await _play(db, version, ann.id, bob.id, T0)
    before = await _ratings(db, ann.id, bob.id)
    match_id = await _play(db, version, bob.id, ann.id, T0 + 600)
    await _void_match(db, match_id, op)  # "match:<id>" first: then two flags voiding it
    on_ann, on_bob = (
        await _flag(db, ann.id, match_id=match_id),
        await _flag(db, bob.id, match_id=match_id),
    )
    await _decide(db, on_ann, op, fp.VOID)
    await _decide(db, on_bob, op, fp.VOID)
    async with db.reading() as session:
        assert await battles.void_sources(session, match_id) == [
            f"match:{match_id}",
            f"flag:{on_ann}",
            f"flag:{on_bob}",
        ]
    await _overturn(db, on_ann, op)
    await _overturn(db, on_bob, op)
    assert await _state(db, match_id) == battles.RATING_VOIDED  # the void without a flag
    assert await _ratings(db, ann.id, bob.id) == before
    assert "restored" not in await _events(db, match_id)


async def test_a_flag_void_then_its_overturn_restores_when_it_is_the_only_source(
    db: Database, version: ProblemVersion
) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, bob.id, ann.id, T0)
    after_game = await _ratings(db, ann.id, bob.id)
    on_ann, on_bob = (
        await _flag(db, ann.id, match_id=match_id),
        await _flag(db, bob.id, match_id=match_id),
    )
    await _decide(db, on_ann, op, fp.VOID)
    await _decide(db, on_bob, op, fp.BAN)
    await _overturn(db, on_ann, op)
    assert await _state(db, match_id) == battles.RATING_VOIDED  # Bob's ban still voids it
    await _overturn(db, on_bob, op)
    assert await _state(db, match_id) == battles.RATED
    assert await _ratings(db, ann.id, bob.id) == after_game
    async with db.reading() as session:
        last = (await battles.events_since(session, match_id, 0))[-1]
        assert (last.type, last.data["by"]) == ("restored", f"flag:{on_bob}")
        assert await battles.void_sources(session, match_id) == []
    # Voided again afterwards: a new episode, with its own source only.
    await _void_match(db, match_id, op, source="appeal:9")
    async with db.reading() as session:
        assert await decisions.active_voids(session, match_id) == {"appeal:9"}


async def test_a_dismissal_is_not_overturned(db: Database, version: ProblemVersion) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0)
    flag_id = await _flag(db, bob.id, match_id=match_id)
    await _decide(db, flag_id, op, fp.DISMISS)
    with pytest.raises(UserError) as caught:
        await _overturn(db, flag_id, op)
    assert (caught.value.status, caught.value.key) == (409, "dismissal_not_overturned")
    async with db.reading() as session:
        flag = await session.get(Flag, flag_id)
        assert flag is not None and flag.status == fp.DECIDED and flag.overturned_at is None
        audits = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target == f"flag:{flag_id}")
            )
        )
        assert audits == ["flag_decision"]


async def test_staff_never_act_on_their_own_case(db: Database, version: ProblemVersion) -> None:
    op = await _user(db, "opal", "operator")
    other = await _user(db, "oscar", "admin")
    bob = await _user(db, "bob")
    match_id = await _play(db, version, op.id, bob.id, T0)  # the operator played this game
    on_bob = await _flag(db, bob.id, match_id=match_id)  # their opponent flagged
    on_op = await _flag(db, op.id, match_id=match_id)  # they are flagged
    for flag_id in (on_bob, on_op):
        with pytest.raises(UserError) as caught:
            await _decide(db, flag_id, op, fp.VOID)
        assert (caught.value.status, caught.value.key) == (403, "own_case")
    with pytest.raises(UserError) as caught:
        await _void_match(db, match_id, op)
    assert (caught.value.status, caught.value.key) == (403, "own_case")
    assert await _state(db, match_id) == battles.RATED
    await _decide(db, on_bob, other, fp.VOID)  # another operator may
    with pytest.raises(UserError) as caught:
        await _overturn(db, on_bob, op)
    assert (caught.value.status, caught.value.key) == (403, "own_case")
    async with db.reading() as session:
        flags = {f.id: f.status for f in await session.scalars(select(Flag))}
    assert flags == {on_bob: fp.DECIDED, on_op: fp.OPEN}
    # A room: its members are players of the game.
    async with db.session() as session:
        room = await make_room(session, bob)
        await session.commit()
        room_id, code = room.id, room.code
    async with db.session() as session:
        await rooms.change(session, room_id, op, "join", code=code)
    with pytest.raises(UserError) as caught:
        await _decide(db, await _flag(db, bob.id, room_id=room_id), op, fp.VOID)
    assert caught.value.key == "own_case"


async def test_a_banned_operator_is_nobodys_staff(db: Database, version: ProblemVersion) -> None:
    op = await _user(db, "opal", "operator")
    ann, bob = await _user(db, "ann"), await _user(db, "bob")
    match_id = await _play(db, version, ann.id, bob.id, T0)
    flag_id = await _flag(db, bob.id, match_id=match_id)
    op.banned_at = NOW
    for call in (
        lambda s: decisions.decide(s, flag_id, op, fp.VOID, REASON, now=NOW),
        lambda s: decisions.overturn(s, flag_id, op, REASON, NOW),
        lambda s: decisions.void_match(s, match_id, op, REASON, NOW),
    ):
        async with db.session() as session:
            with pytest.raises(UserError) as caught:
                await call(session)
        assert (caught.value.status, caught.value.key) == (404, "not_found")


def test_the_reason_limit_is_one_constant() -> None:
    assert decisions.REASON_MAX == 1000
    assert decisions.check_reason("x" * decisions.REASON_MAX) == "x" * decisions.REASON_MAX
    with pytest.raises(UserError) as caught:
        decisions.check_reason("x" * (decisions.REASON_MAX + 1))
    assert caught.value.params == {"min": decisions.REASON_MIN, "max": decisions.REASON_MAX}
