"""Plans: which plan holds when (a paid plan past its end is free), the plan day in
PLAN_TIMEZONE, the limits per plan, and changes: history, extension of a renewal, the audit
entry of an operator's grant, expiry written as a change. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from codebattle.accounts import plans
from codebattle.accounts.models import AuditEntry, PlanChange, User
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from tests.support.factories import make_user
from tests.support.site import settings_for

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, FREE_MATCH_LIMIT=3, BASIC_MATCH_LIMIT=7)


def test_a_paid_plan_past_its_end_is_free() -> None:
    user = User(nickname="u", plan="pro", plan_ends_at=NOW + timedelta(days=1))
    assert plans.effective_plan(user, NOW) == "pro"
    assert plans.effective_plan(user, NOW + timedelta(days=1)) == "free"  # the end is exclusive
    user.plan_ends_at = None  # open-ended
    assert plans.effective_plan(user, NOW + timedelta(days=999)) == "pro"
    user.plan = "gold"  # never trust the column alone
    assert plans.effective_plan(user, NOW) == "free"


def test_the_plan_day_turns_at_midnight_in_seoul(settings: Settings) -> None:
    assert settings.PLAN_TIMEZONE == "Asia/Seoul"
    before = datetime(2026, 12, 7, 14, 59, 59, tzinfo=UTC)  # 23:59:59 KST on the 7th
    at = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 00:00 KST on the 8th
    assert plans.plan_day(before, settings) == date(2026, 12, 7)
    assert plans.plan_day(at, settings) == date(2026, 12, 8)
    utc = settings.model_copy(update={"PLAN_TIMEZONE": "UTC"})
    assert plans.plan_day(at, utc) == date(2026, 12, 7)


def test_limits_per_plan(settings: Settings) -> None:
    assert [plans.daily_game_limit(settings, p) for p in plans.PLANS] == [3, 7, None]
    assert [plans.room_size_limit(settings, p) for p in plans.PLANS] == [10, 50, 1000]
    assert [plans.review_allowed(settings, p) for p in plans.PLANS] == [False, True, True]
    no_basic_review = settings.model_copy(update={"BASIC_REVIEW_ENABLED": False})
    assert [plans.review_allowed(no_basic_review, p) for p in plans.PLANS] == [
        False, False, True,
    ]  # fmt: skip
    assert plans.room_plan_for(settings, 11) == "basic"
    assert plans.room_plan_for(settings, 1001) is None


def test_the_limit_message_names_the_next_plan(settings: Settings) -> None:
    free = plans.limit_error(settings, "free", 3)
    assert free.status == 429 and free.key == "daily_games_used"
    assert free.params["next_plan"] == "basic" and free.params["next_limit"] == 7
    basic = plans.limit_error(settings, "basic", 7)
    assert basic.key == "daily_games_used_basic" and basic.params["next_plan"] == "pro"


async def test_changes_are_history_and_a_renewal_extends(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session)
        await session.commit()
        first = await plans.change_plan(
            session, user.id, "basic", ends_at=NOW + timedelta(days=30), source="checkout",
            payment_id="pay-1", now=NOW,
        )  # fmt: skip
        await session.commit()
        assert (first.old_plan, first.plan, first.starts_at) == ("free", "basic", NOW)
        # Renewed ten days before the end: the new period starts at the old end.
        later = NOW + timedelta(days=20)
        renewal = await plans.change_plan(
            session, user.id, "basic", ends_at=later + timedelta(days=30), source="renewal",
            payment_id="pay-2", now=later,
        )  # fmt: skip
        await session.commit()
        assert renewal.starts_at == NOW + timedelta(days=30)
        assert renewal.ends_at == NOW + timedelta(days=60)
        # An upgrade does not extend: Pro from now, as given.
        upgrade = await plans.change_plan(
            session, user.id, "pro", ends_at=later + timedelta(days=30), source="checkout",
            now=later,
        )  # fmt: skip
        await session.commit()
        assert upgrade.ends_at == later + timedelta(days=30)
    async with db.session() as session:
        row = await session.get(User, user.id)
        assert row is not None
        assert (row.plan, row.plan_source, row.plan_started_at) == ("pro", "checkout", later)
        history = list(
            await session.scalars(
                select(PlanChange).where(PlanChange.user_id == user.id).order_by(PlanChange.id)
            )
        )
        assert [(c.old_plan, c.plan, c.source, c.payment_id) for c in history] == [
            ("free", "basic", "checkout", "pay-1"),
            ("basic", "basic", "renewal", "pay-2"),
            ("basic", "pro", "checkout", None),
        ]
        # Payments' changes are not an operator's: no audit entries.
        assert await session.scalar(select(AuditEntry)) is None


async def test_an_operator_grant_is_audited_in_the_same_transaction(db: Database) -> None:
    async with db.session() as session:
        operator = await make_user(session)
        user = await make_user(session)
        await session.commit()
        operator_id, operator_label, user_id = operator.id, operator.nickname, user.id
        await plans.change_plan(
            session, user_id, "pro", ends_at=NOW + timedelta(days=7), source="grant",
            actor_id=operator_id, actor_label=operator_label, reason="contest winner", now=NOW,
        )  # fmt: skip
        await session.rollback()  # the caller's transaction: nothing stays without a commit
        assert await session.scalar(select(AuditEntry)) is None
        await plans.change_plan(
            session, user_id, "pro", ends_at=NOW + timedelta(days=7), source="grant",
            actor_id=operator_id, actor_label=operator_label, reason="contest winner", now=NOW,
        )  # fmt: skip
        await session.commit()
        entry = await session.scalar(select(AuditEntry))
        assert entry is not None
        assert (entry.actor_id, entry.actor_label, entry.action, entry.subject_user_id) == (
            operator_id, operator_label, "plan", user_id,
        )  # fmt: skip
        assert (entry.old, entry.new, entry.reason) == (
            "free", "pro until 2026-12-14 12:00 UTC", "contest winner",
        )  # fmt: skip


async def test_unknown_plan_or_user_is_refused(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session)
        with pytest.raises(UserError) as unknown:
            await plans.change_plan(session, user.id, "gold", ends_at=None, source="grant", now=NOW)
        assert unknown.value.key == "plan_unknown"
        with pytest.raises(UserError) as nobody:
            await plans.change_plan(session, 10**6, "pro", ends_at=None, source="grant", now=NOW)
        assert nobody.value.key == "user_unknown"


async def test_expiry_is_written_as_a_change(db: Database) -> None:
    async with db.session() as session:
        ending = await make_user(session)
        lasting = await make_user(session)
        open_ended = await make_user(session)
        await session.commit()
        for user, ends in ((ending, NOW + timedelta(hours=1)), (lasting, NOW + timedelta(days=9)),
                           (open_ended, None)):  # fmt: skip
            await plans.change_plan(
                session, user.id, "basic", ends_at=ends, source="grant", now=NOW
            )
        await session.commit()
        assert await plans.expire_plans(session, NOW) == 0
        later = NOW + timedelta(hours=2)
        assert await plans.expire_plans(session, later) == 1
        await session.commit()
        assert await plans.expire_plans(session, later) == 0  # once
    async with db.session() as session:
        users = {u.id: u for u in await session.scalars(select(User))}
        assert (users[ending.id].plan, users[ending.id].plan_source) == ("free", "expiry")
        assert users[ending.id].plan_ends_at is None
        assert users[lasting.id].plan == users[open_ended.id].plan == "basic"
        last = await session.scalar(
            select(PlanChange).where(PlanChange.user_id == ending.id).order_by(PlanChange.id.desc())
        )
        assert last is not None and (last.old_plan, last.plan, last.source) == (
            "basic", "free", "expiry",
        )  # fmt: skip


async def test_games_are_counted_per_plan_day(db: Database, settings: Settings) -> None:
    async with db.session() as session:
        user = await make_user(session)
        await session.commit()
        for _ in range(3):
            await plans.take_game(session, user, settings, NOW)
        await session.commit()
        with pytest.raises(UserError) as over:
            await plans.take_game(session, user, settings, NOW)
        await session.rollback()
        await session.refresh(user)
        assert over.value.key == "daily_games_used" and over.value.params["limit"] == 3
        left = await plans.allowance(session, user, settings, NOW)
        assert (left.plan, left.limit, left.used, left.left, left.exhausted) == (
            "free", 3, 3, 0, True,
        )  # fmt: skip
        # 00:00 KST: a new day, three games again.
        tomorrow = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
        assert (await plans.allowance(session, user, settings, tomorrow)).left == 3
        await plans.take_game(session, user, settings, tomorrow)
        await session.commit()
        # Pro: no limit (and the AI never counts).
        await plans.change_plan(session, user.id, "pro", ends_at=None, source="grant", now=NOW)
        await session.commit()
        await session.refresh(user)
        for _ in range(5):
            await plans.take_game(session, user, settings, NOW)
        await session.commit()
        pro = await plans.allowance(session, user, settings, NOW)
        assert (pro.plan, pro.limit, pro.left, pro.used) == ("pro", None, None, 8)
        assert pro.as_json() == {"plan": "pro", "games_limit": None, "games_left": None}


async def test_a_change_after_an_unwritten_expiry_records_the_expiry_first(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session)
        await session.commit()
        ended = NOW + timedelta(days=30)
        await plans.change_plan(
            session, user.id, "basic", ends_at=ended, source="checkout", now=NOW
        )
        await session.commit()
        later = ended + timedelta(days=3)
        again = await plans.change_plan(
            session, user.id, "basic", ends_at=later + timedelta(days=30), source="checkout",
            now=later,
        )  # fmt: skip
        await session.commit()
        assert (again.starts_at, again.ends_at) == (later, later + timedelta(days=30))  # no gap
        history = list(
            await session.scalars(
                select(PlanChange).where(PlanChange.user_id == user.id).order_by(PlanChange.id)
            )
        )
        assert [(c.old_plan, c.plan, c.source, c.starts_at) for c in history] == [
            ("free", "basic", "checkout", NOW),
            ("basic", "free", "expiry", ended),
            ("free", "basic", "checkout", later),
        ]
