"""Achievements (rewards/achievements.py) on SQLite and PostgreSQL: each kind of rule awards
when due and not before; the event pass awards once however often it runs, when replayed
from 0, and when many transactions award the same one at once; the backfill finds what the
pass finds; voided games and AI users count for nothing; an achievement's points are granted
once and never taken back; the profile shows them (API and page, Korean and English)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from codebattle.accounts.models import Notification, User
from codebattle.accounts.notifications import text_of
from codebattle.battles import ai_player, fsm
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow
from codebattle.cli import app
from codebattle.config import Settings, load_settings
from codebattle.db.session import Database
from codebattle.fairplay.models import Flag
from codebattle.judge.verdicts import Verdict
from codebattle.problems.models import ProblemVersion
from codebattle.progress import points
from codebattle.progress.models import PointTransaction
from codebattle.rewards import achievements
from codebattle.rewards.models import AchievementCursor, UserAchievement
from codebattle.rooms.models import Room, RoomEvent, RoomMember
from codebattle.storage import LocalBlobStore
from codebattle.submissions.models import DONE, SAMPLES, Submission
from tests.support.factories import (
    GAME,
    make_match,
    make_problem_version,
    make_room,
    make_submission,
    make_user,
)
from tests.support.site import sign_in

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
T0 = NOW.timestamp() - 86_400  # games a day before the pass
LONG = fsm.Settings(tests=GAME.tests, duration=1800, countdown=5, grace=20)  # time to be slow


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(DATA_DIR=tmp_path, ROOM_PODIUM_MIN_PLAYERS=3)


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
async def version(db: Database, blobs: LocalBlobStore) -> ProblemVersion:
    async with db.session() as session:
        found = await make_problem_version(session, blobs)
        await session.commit()
        return found


async def _users(db: Database, *names: str) -> list[int]:
    async with db.session() as session:
        users = [await make_user(session, name) for name in names]
        await session.commit()
        return [u.id for u in users]


class Games:
    """Games played one after another (each finishes 10 minutes after the last)."""

    def __init__(self, db: Database, version: ProblemVersion) -> None:
        self.db, self.version, self.at = db, version, T0

    async def play(
        self, winner: int, loser: int, *, settle: bool = True, solve_after: float | None = None
    ) -> int:
        """A rated game `winner` wins: `loser` gives up, or with `solve_after` the winner
        passes every test that many seconds after the start. Settled (rated) unless not."""
        self.at += 600
        async with self.db.session() as session:
            row = await make_match(
                session, self.version, [winner, loser], now=self.at, settings=LONG
            )
            match_id = row.id
            await session.commit()
        started = self.at + LONG.countdown
        async with self.db.session() as session:
            if solve_after is None:
                await battles.apply(session, match_id, {"type": "give_up", "user": loser},
                                    started + 30)  # fmt: skip
            else:
                done = started + solve_after
                event = {"type": "result", "user": winner, "passed": LONG.tests, "made_at": done}
                await battles.apply(session, match_id, event, done)
        if settle:
            await self.settle(match_id)
        return match_id

    async def settle(self, match_id: int) -> None:
        async with self.db.session() as session:
            assert await battles.settle_rating(session, match_id, hold=False, now=self.at + 400)

    async def against_ai(self, human: int, level: str, *, human_wins: bool = True) -> int:
        self.at += 600
        async with self.db.session() as session:
            ai = await ai_player.ai_user(session, level)
            row = await battles.create(
                session, mode="ai", problem_id=self.version.problem_id,
                problem_version_id=self.version.id, settings=LONG, rated=False,
                players=[(human, False), (ai.id, True)], now=self.at,
            )  # fmt: skip
            await session.commit()
            match_id, ai_id = row.id, ai.id
        loser = ai_id if human_wins else human
        async with self.db.session() as session:
            await battles.apply(session, match_id, {"type": "give_up", "user": loser}, self.at + 60)
        return match_id

    async def void(self, match_id: int) -> None:
        async with self.db.session() as session:
            await battles.void(session, match_id, self.at + 500, by="test")


async def _pass(db: Database, settings: Settings, now: datetime = NOW) -> int:
    """The pass until it has nothing more to read (each stream's cursor trails one pass)."""
    total = 0
    for _ in range(3):
        total += await achievements.pass_once(db, settings, now)
    return total


async def _codes(db: Database, user_id: int) -> set[str]:
    async with db.reading() as session:
        return set(await achievements.earned(session, user_id))


async def _all_awards(db: Database) -> set[tuple[int, str]]:
    async with db.reading() as session:
        rows = (await session.execute(select(UserAchievement.user_id, UserAchievement.code))).all()
        return {(u, c) for u, c in rows}


async def _ledger(db: Database) -> tuple[int, int]:
    """Achievement grants in the ledger, and notifications of achievements."""
    async with db.reading() as session:
        grants = await session.scalar(
            select(func.count())
            .select_from(PointTransaction)
            .where(PointTransaction.reason == "achievement")
        )
        notes = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "achievement")
        )
        return int(grants or 0), int(notes or 0)


async def _accepted(
    db: Database, blobs: LocalBlobStore, user_id: int, language: str, *, verdict: str = "AC",
    kind: str | None = None, judged: bool = True,
) -> int:  # fmt: skip
    """A submission in `language`, judged with `verdict` (or still waiting)."""
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        submission = await make_submission(session, blobs, user, language=language)
        values: dict[str, object] = {"status": DONE, "verdict": verdict} if judged else {}
        if kind is not None:
            values["kind"] = kind
        if values:
            await session.execute(
                update(Submission).where(Submission.id == submission.id).values(**values)
            )
        await session.commit()
        return submission.id


def _points(code: str) -> int:
    return achievements.by_code()[code].points


# --- the catalogue -----------------------------------------------------------------------


def test_the_catalogue_has_every_achievement_with_texts_and_an_icon() -> None:
    from codebattle.i18n import catalogue

    static = Path(achievements.__file__).parents[1] / "web" / "static" / "achievements"
    codes = [a.code for a in achievements.catalogue()]
    assert {"first_win", "first_ac_python", "first_ac_cpp", "first_ac_java", "streak_3",
            "streak_5", "beat_hard_ai", "speed_solver", "room_podium", "ten_wins",
            "fifty_games", "polyglot"} <= set(codes)  # fmt: skip
    for a in achievements.catalogue():
        assert a.points > 0 and a.rule in achievements.KINDS
        for locale in ("en", "ko"):
            assert f"ach.{a.code}.name" in catalogue(locale)
            assert f"ach.{a.code}.desc" in catalogue(locale)
        svg = (static / f"{a.code}.svg").read_text()
        assert svg.startswith("<svg") and "<title" in svg and len(svg) < 2048


def test_a_mistake_in_the_data_fails_at_load() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        achievements.parse('[[achievement]]\ncode = "x"\nrule = "no_such"\npoints = 1\n')
    twice = '[[achievement]]\ncode = "x"\nrule = "wins"\nn = 1\n' * 2
    with pytest.raises(ValueError, match="repeated"):
        achievements.parse(twice)


# --- each kind of rule -------------------------------------------------------------------


async def test_wins_and_streaks_award_when_due_and_not_before(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    ann, bob = await _users(db, "ann", "bob")
    games = Games(db, version)
    pending = await games.play(ann, bob, settle=False)
    await _pass(db, settings)
    assert await _codes(db, ann) == set()  # a win counts once its rating is settled
    await games.settle(pending)
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_win"}
    await games.play(ann, bob)
    await games.play(bob, ann)  # the run breaks: 2 in a row, then a loss
    await games.play(ann, bob)
    await games.play(ann, bob)
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_win"}
    assert await _codes(db, bob) == {"first_win"}
    await games.play(ann, bob)  # 3 in a row
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_win", "streak_3"}
    for _ in range(2):
        await games.play(ann, bob)
    await _pass(db, settings)
    assert "streak_5" in await _codes(db, ann) and "ten_wins" not in await _codes(db, ann)
    for _ in range(2):
        await games.play(ann, bob)
    await _pass(db, settings)
    assert "ten_wins" not in await _codes(db, ann)  # 9 wins
    await games.play(ann, bob)
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_win", "streak_3", "streak_5", "ten_wins"}


async def test_a_pending_game_breaks_a_streak_until_it_is_settled(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    ann, bob = await _users(db, "ann", "bob")
    games = Games(db, version)
    await games.play(ann, bob)
    middle = await games.play(ann, bob, settle=False)
    await games.play(ann, bob)
    await _pass(db, settings)
    assert "streak_3" not in await _codes(db, ann)
    await games.settle(middle)  # its "rated" event brings the players back to the pass
    await _pass(db, settings)
    assert "streak_3" in await _codes(db, ann)


async def test_voided_games_count_for_nothing(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    ann, bob = await _users(db, "ann", "bob")
    games = Games(db, version)
    won = await games.play(ann, bob)
    await games.void(won)
    ai_game = await games.against_ai(bob, "hard")
    await games.void(ai_game)
    await _pass(db, settings)
    assert await _codes(db, ann) == set() and await _codes(db, bob) == set()
    async with db.reading() as session:
        assert await achievements.due(session, ann, settings) == []
        assert await achievements.due(session, bob, settings) == []


async def test_beating_the_hard_ai_and_the_ai_earns_nothing(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    ann, bob = await _users(db, "ann", "bob")
    games = Games(db, version)
    await games.against_ai(ann, "medium")
    await games.against_ai(bob, "hard", human_wins=False)
    await _pass(db, settings)
    assert await _codes(db, ann) == set() and await _codes(db, bob) == set()
    async with db.reading() as session:
        ai = await session.scalar(select(User).where(User.is_ai, User.ai_level == "hard"))
        assert ai is not None
        assert await achievements.due(session, ai.id, settings) == []
    await games.against_ai(ann, "hard")
    await _pass(db, settings)
    assert await _codes(db, ann) == {"beat_hard_ai"}
    assert (ai.id, "first_win") not in await _all_awards(db)
    assert {u for u, _ in await _all_awards(db)} == {ann}  # nothing for any AI


async def test_a_game_under_an_open_flag_counts_once_the_flag_is_dismissed(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    """Games against the AI are never rated, so the open flag itself keeps a flagged win
    from counting: the achievement (and its points) waits for the operator."""
    (ann,) = await _users(db, "ann")
    match_id = await Games(db, version).against_ai(ann, "hard")
    async with db.session() as session:
        flag = Flag(key=f"test:{match_id}", source="risk", level="high", score=0.9,
                    user_id=ann, match_id=match_id, reasons=[])  # fmt: skip
        session.add(flag)
        await session.commit()
    await _pass(db, settings)
    assert await _codes(db, ann) == set()
    async with db.session() as session:
        await session.execute(update(Flag).where(Flag.id == flag.id).values(status="decided"))
        await session.commit()
    async with db.reading() as session:
        assert [code for code, _source in await achievements.due(session, ann, settings)] == [
            "beat_hard_ai"
        ]


async def test_speed_solver_counts_minutes_from_the_start(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    ann, bob, cat = await _users(db, "ann", "bob", "cat")
    minutes = achievements.by_code()["speed_solver"].params["minutes"]
    games = Games(db, version)
    slow = await games.play(ann, bob, solve_after=minutes * 60 + 5)
    await games.play(cat, bob, solve_after=minutes * 60 - 5)
    await games.play(bob, cat)  # a win by giving up: nothing was solved
    await _pass(db, settings)
    assert "speed_solver" not in await _codes(db, ann)
    assert "speed_solver" not in await _codes(db, bob)
    assert "speed_solver" in await _codes(db, cat)
    async with db.reading() as session:
        row = await session.get(MatchRow, slow)
        assert row is not None
        assert achievements.solved_within(row, ann) == pytest.approx(minutes * 60 + 5)


async def test_first_accepted_in_each_language_and_polyglot(
    db: Database, blobs: LocalBlobStore, version: ProblemVersion, settings: Settings
) -> None:
    (ann,) = await _users(db, "ann")
    await _accepted(db, blobs, ann, "cpp", verdict="WA")
    await _accepted(db, blobs, ann, "java", kind=SAMPLES)  # samples only: not a full AC
    await _accepted(db, blobs, ann, "python")
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_ac_python"}
    await _accepted(db, blobs, ann, "cpp")
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_ac_python", "first_ac_cpp"}
    java = await _accepted(db, blobs, ann, "java")
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_ac_python", "first_ac_cpp", "first_ac_java", "polyglot"}
    async with db.reading() as session:
        row = await session.get(UserAchievement, (ann, "polyglot"))
        assert row is not None and row.source == f"submission:{java}"


async def test_a_submission_waiting_for_its_verdict_holds_the_cursor(
    db: Database, blobs: LocalBlobStore, version: ProblemVersion, settings: Settings
) -> None:
    ann, bob = await _users(db, "ann", "bob")
    waiting = await _accepted(db, blobs, ann, "python", judged=False)
    await _accepted(db, blobs, bob, "python")  # a later id, judged first
    now = datetime.now(UTC)
    await _pass(db, settings, now)
    assert await _codes(db, bob) == {"first_ac_python"} and await _codes(db, ann) == set()
    async with db.reading() as session:
        cursor = await session.get(AchievementCursor, achievements.SUBMISSIONS)
        assert cursor is not None and cursor.position == waiting - 1
    async with db.session() as session:
        await session.execute(
            update(Submission)
            .where(Submission.id == waiting)
            .values(status=DONE, verdict=Verdict.AC.value)
        )
        await session.commit()
    await _pass(db, settings, now)
    assert await _codes(db, ann) == {"first_ac_python"}


async def test_a_submission_stuck_unjudged_no_longer_holds_the_cursor(
    db: Database, blobs: LocalBlobStore, version: ProblemVersion, settings: Settings
) -> None:
    (ann,) = await _users(db, "ann")
    stuck = await _accepted(db, blobs, ann, "python", judged=False)
    later = await _accepted(db, blobs, ann, "cpp")
    await _pass(db, settings, datetime.now(UTC) + achievements.STUCK + timedelta(minutes=1))
    async with db.reading() as session:
        cursor = await session.get(AchievementCursor, achievements.SUBMISSIONS)
        assert cursor is not None and cursor.position == later > stuck


async def _ended_room(
    db: Database, version: ProblemVersion, solved: list[int], *, ai_members: int = 0
) -> tuple[int, list[int]]:
    """A room that ended, its members (joined in order) with these many problems solved."""
    async with db.session() as session:
        host = await make_user(session)
        room = await make_room(session, host)
        users = [await make_user(session) for _ in solved]
        for n, (user, count) in enumerate(zip(users, solved, strict=True)):
            session.add(RoomMember(room_id=room.id, user_id=user.id, joined_at=n, solved=count,
                                   penalty=100.0 * n, board={}))  # fmt: skip
        for level in ("easy", "medium", "hard")[:ai_members]:
            ai = await ai_player.ai_user(session, level)
            session.add(RoomMember(room_id=room.id, user_id=ai.id, joined_at=99, solved=9))
        row = await session.get(Room, room.id)
        assert row is not None
        row.state, row.ends_at, row.seq = "ended", T0, row.seq + 1
        session.add(RoomEvent(room_id=room.id, seq=row.seq, type="ended", at=T0,
                              data={"type": "ended", "at": T0, "reason": "time"}))  # fmt: skip
        await session.commit()
        return room.id, [u.id for u in users]


async def test_room_podium_needs_enough_humans_and_a_solve(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    assert settings.ROOM_PODIUM_MIN_PLAYERS == 3
    room, users = await _ended_room(db, version, [3, 2, 1, 1])  # ranks 1, 2, 3, 4
    small, few = await _ended_room(db, version, [5, 4], ai_members=2)  # 2 humans only
    zero, nobody = await _ended_room(db, version, [1, 0, 0])
    await _pass(db, settings)
    assert [("room_podium" in await _codes(db, u)) for u in users] == [True, True, True, False]
    assert [("room_podium" in await _codes(db, u)) for u in few] == [False, False]
    assert [("room_podium" in await _codes(db, u)) for u in nobody] == [True, False, False]
    async with db.reading() as session:
        first = await session.get(UserAchievement, (users[0], "room_podium"))
        assert first is not None and first.source == f"room:{room}"


async def test_games_rule_counts_finished_games(
    db: Database, version: ProblemVersion, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = achievements.parse(
        '[[achievement]]\ncode = "fifty_games"\npoints = 5\nrule = "games"\nn = 3\nrated = true\n'
        '[[achievement]]\ncode = "ten_wins"\npoints = 5\nrule = "games"\nn = 2\nhidden = true\n'
    )  # codes that have texts and icons, with smaller numbers
    monkeypatch.setattr(achievements, "catalogue", lambda: small)
    ann, bob = await _users(db, "ann", "bob")
    games = Games(db, version)
    await games.play(ann, bob)
    await games.against_ai(ann, "easy")  # not rated: counts only for the second
    await _pass(db, settings)
    assert await _codes(db, ann) == {"ten_wins"} and await _codes(db, bob) == set()
    async with db.reading() as session:
        shown = achievements.entries(await achievements.earned(session, bob), "en", settings)
        assert [e["code"] for e in shown] == ["fifty_games"]  # a hidden one not yet earned
    await games.play(bob, ann)
    await games.play(bob, ann)
    await _pass(db, settings)
    assert await _codes(db, ann) == {"ten_wins", "fifty_games"}
    assert await _codes(db, bob) == {"ten_wins", "fifty_games"}


# --- idempotence ---------------------------------------------------------------------------


async def _history(db: Database, blobs: LocalBlobStore, version: ProblemVersion) -> list[int]:
    """A little of everything: wins in a row, an AI beaten, accepted code, a room podium."""
    ann, bob = await _users(db, "ann", "bob")
    games = Games(db, version)
    for _ in range(3):
        await games.play(ann, bob, solve_after=60)
    await games.play(bob, ann)
    await games.against_ai(bob, "hard")
    await _accepted(db, blobs, ann, "python")
    await _accepted(db, blobs, bob, "java")
    _room, members = await _ended_room(db, version, [2, 1, 1])
    return [ann, bob, *members]


async def test_the_pass_twice_and_replayed_from_zero_awards_nothing_twice(
    db: Database, blobs: LocalBlobStore, version: ProblemVersion, settings: Settings
) -> None:
    users = await _history(db, blobs, version)
    assert await _pass(db, settings) > 0
    awarded, ledger = await _all_awards(db), await _ledger(db)
    async with db.reading() as session:
        balances = [await points.balance(session, u) for u in users]
    assert ledger == (len(awarded), len(awarded))
    assert await _pass(db, settings) == 0
    async with db.session() as session:
        await session.execute(update(AchievementCursor).values(position=0))
        await session.commit()
    assert await _pass(db, settings) == 0
    assert await _all_awards(db) == awarded and await _ledger(db) == ledger
    async with db.reading() as session:
        assert [await points.balance(session, u) for u in users] == balances
        assert points.describe(await points.verify(session)) == []


async def test_the_backfill_finds_what_the_pass_finds(
    db: Database, blobs: LocalBlobStore, version: ProblemVersion, settings: Settings
) -> None:
    users = await _history(db, blobs, version)
    async with db.reading() as session:
        found = {
            (u, code) for u in users for code, _ in await achievements.due(session, u, settings)
        }
    assert {"first_win", "streak_3", "speed_solver", "beat_hard_ai", "first_ac_python",
            "first_ac_java", "room_podium"} <= {code for _, code in found}  # fmt: skip
    await _pass(db, settings)
    assert await _all_awards(db) == found
    assert await achievements.backfill(db, settings, NOW) == 0


async def test_the_backfill_awards_history_once(
    db: Database, blobs: LocalBlobStore, version: ProblemVersion, settings: Settings
) -> None:
    await _history(db, blobs, version)
    count = await achievements.backfill(db, settings, NOW)
    assert count == len(await _all_awards(db)) > 0
    assert await achievements.backfill(db, settings, NOW) == 0
    assert await _pass(db, settings) == 0  # the pass finds them awarded


async def test_concurrent_awards_of_one_achievement_give_one_row_and_one_grant(
    db: Database, settings: Settings
) -> None:
    (ann,) = await _users(db, "ann")

    async def one() -> bool:
        async with db.session() as session:
            new = await achievements.award(session, ann, "first_win", "match:1", NOW)
            await session.commit()
            return new

    results = await asyncio.gather(*(one() for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    assert await _all_awards(db) == {(ann, "first_win")}
    assert await _ledger(db) == (1, 1)
    async with db.reading() as session:
        assert await points.balance(session, ann) == _points("first_win")


async def test_points_are_granted_once_and_never_taken_back(
    db: Database, version: ProblemVersion, settings: Settings
) -> None:
    ann, bob = await _users(db, "ann", "bob")
    games = Games(db, version)
    won = await games.play(ann, bob)
    await _pass(db, settings)
    async with db.reading() as session:
        before = await points.balance(session, ann)
    await games.void(won)  # the game's own points go back; the achievement stays
    await _pass(db, settings)
    assert await _codes(db, ann) == {"first_win"}
    async with db.reading() as session:
        grants = list(
            await session.scalars(
                select(PointTransaction).where(PointTransaction.reason == "achievement")
            )
        )
        assert [g.key for g in grants] == [f"ach:first_win:{ann}"]
        after = await points.balance(session, ann)
        assert after == _points("first_win") < before
        notes = list(await session.scalars(select(Notification).where(Notification.user_id == ann)))
        texts = [text_of(n, "en") for n in notes if n.kind == "achievement"]
        assert texts == [f"Achievement unlocked: First Victory (+{_points('first_win')} points)."]


async def test_a_user_not_in_good_standing_gets_the_achievement_without_points(
    db: Database, settings: Settings
) -> None:
    (ann,) = await _users(db, "ann")
    async with db.session() as session:
        await session.execute(update(User).where(User.id == ann).values(banned_at=NOW))
        assert await achievements.award(session, ann, "first_win", "match:1", NOW)
        await session.commit()
    assert await _codes(db, ann) == {"first_win"}
    assert await _ledger(db) == (0, 1)


# --- the command and the profile -----------------------------------------------------------


def test_the_backfill_command_prints_how_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["users", "token", "Hana"]).exit_code == 0
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'codebattle.db'}")
    blobs = LocalBlobStore(tmp_path / "blobs")

    async def accepted() -> None:
        try:
            async with db.session() as session:
                await make_problem_version(session, blobs)
                await session.commit()
            hana = await _user_id(db, "Hana")
            await _accepted(db, blobs, hana, "python")
        finally:
            await db.dispose()

    asyncio.run(accepted())
    first = runner.invoke(app, ["achievements", "backfill"])
    assert first.exit_code == 0, first.output
    assert "1 achievement(s) awarded" in first.output
    again = runner.invoke(app, ["achievements", "backfill"])
    assert "0 achievement(s) awarded" in again.output


async def _user_id(db: Database, nickname: str) -> int:
    async with db.reading() as session:
        found = await session.scalar(select(User.id).where(User.nickname == nickname))
        assert found is not None
        return int(found)


def test_the_profile_shows_achievements_with_dates(
    client: TestClient, app_settings: Settings
) -> None:
    sign_in(client, "hana")
    db = Database(app_settings.database_url)
    awarded = datetime(2026, 3, 4, 16, 30, tzinfo=UTC)  # 5 March in Seoul

    async def award() -> None:
        try:
            hana = await _user_id(db, "hana")
            async with db.session() as session:
                await achievements.award(session, hana, "first_win", "match:1", awarded)
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(award())
    client.cookies.set("lang", "en")
    shown = client.get("/api/users/hana").json()
    by_code = {a["code"]: a for a in shown["achievements"]}
    assert set(by_code) == {a.code for a in achievements.catalogue() if not a.hidden}
    assert by_code["first_win"]["earned"] and by_code["first_win"]["name"] == "First Victory"
    assert by_code["first_win"]["date"] == "Mar 5, 2026"
    assert not by_code["ten_wins"]["earned"] and by_code["ten_wins"]["at"] is None
    speed = achievements.by_code()["speed_solver"].params["minutes"]
    assert f"within {speed} minutes" in by_code["speed_solver"]["description"]

    client.cookies.set("lang", "en")
    page = client.get("/users/hana")
    assert page.status_code == 200
    assert 'id="achievements"' in page.text and "First Victory" in page.text
    assert "Earned Mar 5, 2026" in page.text and "/static/achievements/first_win.svg" in page.text
    assert 'class="ach ach-locked" id="ach-ten_wins"' in page.text
    assert "How to get it: Win 10 rated games." in page.text
    client.cookies.set("lang", "ko")
    page = client.get("/users/hana")
    assert "첫 승리" in page.text and "2026년 3월 5일 달성" in page.text
    assert "아직 달성하지 않음" in page.text
    assert client.get("/static/achievements/first_win.svg").status_code == 200
    assert client.get("/static/achievements.css").status_code == 200


async def test_passes_running_at_once_award_once(
    db: Database, blobs: LocalBlobStore, version: ProblemVersion, settings: Settings
) -> None:
    await _history(db, blobs, version)
    counts = await asyncio.gather(*(achievements.pass_once(db, settings, NOW) for _ in range(4)))
    counts += await asyncio.gather(*(achievements.pass_once(db, settings, NOW) for _ in range(4)))
    awarded = await _all_awards(db)
    assert sum(counts) == len(awarded) > 0
    assert await _ledger(db) == (len(awarded), len(awarded))
