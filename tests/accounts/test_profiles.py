"""accounts.profiles: the nickname rules, age bands (conservative), and finishing a first
sign-in into a user and its identity (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from codebattle.accounts import profiles
from codebattle.accounts.models import Identity, User
from codebattle.db.session import Database
from codebattle.errors import UserError
from tests.support.factories import make_user
from tests.support.welcome import profile

YEAR = datetime.now(ZoneInfo("Asia/Seoul")).year


def pending(**fields: object) -> profiles.Pending:
    data = profile(**fields)  # type: ignore[arg-type]
    found = profiles.Pending.of({"via": data["provider"], "profile": data, "next": "/play"})
    assert found is not None
    return found


@pytest.mark.parametrize("name", ["ab", "새싹", "Code_Runner-7", "가" * 20, "  spaced  "])
def test_valid_nicknames(name: str) -> None:
    assert profiles.check_nickname(name) == name.strip()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("a", "nickname_invalid"),
        ("a" * 21, "nickname_invalid"),
        ("two words", "nickname_invalid"),
        ("semi;colon", "nickname_invalid"),
        ("ADMIN", "nickname_reserved"),
        ("Operator", "nickname_reserved"),
        ("관리자", "nickname_reserved"),
        ("운영자", "nickname_reserved"),
        ("ai", "nickname_reserved"),
        ("AI (easy)", "nickname_reserved"),
        ("ai(hard)", "nickname_reserved"),
        ("deleted-1a2b3c", "nickname_reserved"),
        ("CodeBattle", "nickname_reserved"),
        (None, "nickname_invalid"),
    ],
)
def test_invalid_and_reserved_nicknames(name: object, key: str) -> None:
    with pytest.raises(UserError) as refused:
        profiles.check_nickname(name)
    assert refused.value.key == key


def test_names_that_merely_start_with_ai_are_allowed() -> None:
    assert profiles.check_nickname("aiden") == "aiden"


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (2026, "under14"),
        (2012, "under14"),  # 13 or 14 in 2026: the younger counts
        (2011, "under19"),  # 14 or 15
        (2007, "under19"),  # 18 or 19
        (2006, "adult"),  # 19 or 20
        (1950, "adult"),
    ],
)
def test_age_bands_take_the_younger_possibility(born: int, band: str) -> None:
    assert profiles.age_band(born, 2026) == band


@pytest.mark.parametrize(
    "value", ["²", "١٢", "١٩٩٠", "  ", "-5", "99999", "1_990", "9" * 5000, True, 1990.0, None]
)
def test_birth_years_that_are_not_ascii_digits_in_range_are_refused(value: object) -> None:
    with pytest.raises(UserError) as refused:
        profiles.check_birth_year(value, 2026)
    assert refused.value.key == "birth_year_invalid"


def test_a_birth_year_in_range() -> None:
    assert profiles.check_birth_year(" 2000 ", 2026) == 2000
    assert profiles.check_birth_year(2000, 2026) == 2000
    assert profiles.check_birth_year("1906", 2026) == 1906  # 120 years
    assert profiles.check_birth_year("2026", 2026) == 2026


def onboarded(birth_year: int | None, stored_band: str | None) -> User:
    return User(
        nickname="grows_up",
        birth_year=birth_year,
        age_band=stored_band,
        onboarded_at=datetime(2020, 1, 1, tzinfo=UTC),
    )


def test_the_band_is_worked_out_from_the_birth_year_when_checked() -> None:
    """Under 14 last year (2025 - 2011 - 1 = 13), 14 now (2026 - 2011 - 1): the band stored
    at sign-up says under14, the check no longer restricts."""
    user = onboarded(2011, "under14")
    last_year = datetime(2025, 6, 1, tzinfo=UTC)
    this_year = datetime(2026, 6, 1, tzinfo=UTC)
    assert profiles.age_band_of(user, last_year) == "under14"
    assert profiles.restriction(user, last_year) == "guardian_consent_required"
    assert profiles.age_band_of(user, this_year) == "under19"
    assert profiles.restriction(user, this_year) is None
    # An under19 user becomes an adult for rewards the same way (2026 - 2007 - 1 = 18).
    minor = onboarded(2007, "under19")
    assert profiles.age_band_of(minor, this_year) == "under19"
    assert profiles.age_band_of(minor, datetime(2027, 1, 1, tzinfo=UTC)) == "adult"


def test_the_year_turns_in_the_plan_time_zone() -> None:
    user = onboarded(YEAR - 15, "under14")  # 14 from 1 January this year, Seoul time
    new_year_utc_eve = datetime(YEAR - 1, 12, 31, 16, 0, tzinfo=UTC)  # 01:00 in Seoul
    assert profiles.age_band_of(user, new_year_utc_eve) == "under19"
    assert profiles.age_band_of(user, new_year_utc_eve, ZoneInfo("UTC")) == "under14"
    assert profiles.restriction(user) is None  # now


def test_without_a_birth_year_the_stored_band_counts() -> None:
    assert profiles.age_band_of(onboarded(None, "under14")) == "under14"
    assert profiles.restriction(onboarded(None, "under14")) == "guardian_consent_required"
    assert profiles.age_band_of(onboarded(None, "adult")) == "adult"
    assert profiles.age_band_of(onboarded(None, None)) is None
    assert profiles.age_band_of(onboarded(None, "weird")) is None


def test_provider_age_a_birth_year_decides_and_a_band_alone_is_taken() -> None:
    assert profiles.provider_age({"birth_year": 2012, "age_band": "adult"}, 2026) == (
        2012,
        "under14",
    )
    assert profiles.provider_age({"age_band": "under19"}, 2026) == (None, "under19")
    assert profiles.provider_age({"age_band": "weird"}, 2026) == (None, None)
    assert profiles.provider_age({}, 2026) == (None, None)


def test_pending_of_refuses_what_is_not_a_provider_profile() -> None:
    assert profiles.Pending.of(None) is None
    assert profiles.Pending.of({"via": "kakao"}) is None
    assert profiles.Pending.of({"profile": {"provider": "kakao", "subject": ""}}) is None


async def test_finish_signup_creates_the_user_and_identity(db: Database) -> None:
    async with db.session() as session:
        user = await profiles.finish_signup(
            session, pending(subject="s-1"), "First", YEAR - 25, True, None, "ko"
        )
    async with db.session() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        assert stored.onboarded_at is not None and stored.terms_accepted_at is not None
        assert (stored.email, stored.email_verified) == ("kid@example.com", True)
        assert (stored.display_name, stored.avatar_url) == ("민수", "https://example.com/a.png")
        assert (stored.birth_year, stored.age_band, stored.locale) == (YEAR - 25, "adult", "ko")
        assert profiles.restriction(stored) is None
        ids = list(await session.scalars(select(Identity).where(Identity.user_id == user.id)))
        assert [(i.provider, i.subject, i.email) for i in ids] == [
            ("kakao", "s-1", "kid@example.com")
        ]


async def test_finish_signup_refusals_leave_nothing_behind(db: Database) -> None:
    async with db.session() as session:
        await make_user(session, "Taken")
        await session.commit()
    cases: list[tuple[dict[str, object], str]] = [
        ({"nickname": "fresh", "birth_year": YEAR - 20, "accepted": False}, "terms_required"),
        ({"nickname": "TAKEN", "birth_year": YEAR - 20}, "nickname_taken"),
        ({"nickname": "fresh", "birth_year": None}, "birth_year_invalid"),
        ({"nickname": "fresh", "birth_year": "19x0"}, "birth_year_invalid"),
        ({"nickname": "fresh", "birth_year": YEAR - 121}, "birth_year_invalid"),
        ({"nickname": "root", "birth_year": YEAR - 20}, "nickname_reserved"),
    ]
    for case, key in cases:
        async with db.session() as session:
            with pytest.raises(UserError) as refused:
                await profiles.finish_signup(
                    session,
                    pending(subject="s-2"),
                    case["nickname"],
                    case["birth_year"],
                    bool(case.get("accepted", True)),
                    None,
                    "en",
                )
            assert refused.value.key == key, case
    async with db.session() as session:
        assert await session.scalar(select(Identity).where(Identity.subject == "s-2")) is None


async def test_a_provider_birth_year_is_used_and_under_14_is_restricted(db: Database) -> None:
    async with db.session() as session:
        user = await profiles.finish_signup(
            session, pending(subject="s-3", birth_year=YEAR - 13), "kiddo", None, True, None, "ko"
        )
    assert (user.birth_year, user.age_band) == (YEAR - 13, "under14")
    assert profiles.restriction(user) == "guardian_consent_required"


async def test_the_same_identity_twice_is_already_registered(db: Database) -> None:
    async with db.session() as session:
        await profiles.finish_signup(
            session, pending(subject="s-4", age_band="adult"), "once", None, True, None, "en"
        )
    async with db.session() as session:
        with pytest.raises(UserError) as refused:
            await profiles.finish_signup(
                session, pending(subject="s-4", age_band="adult"), "twice", None, True, None, "en"
            )
    assert refused.value.key == "already_registered"


async def test_nickname_sign_in_users_are_onboarded(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session, "dev_user")
    assert user.onboarded_at is not None and profiles.restriction(user) is None


async def test_the_database_refuses_a_nickname_differing_only_in_case(db: Database) -> None:
    """Two first sign-ins at the same moment as "Bob" and "bob" pass the check before
    insert; the unique index on lower(nickname) lets only one of them in."""
    from sqlalchemy.exc import IntegrityError

    async with db.session() as session:
        session.add(User(nickname="Bob"))
        await session.commit()
        session.add(User(nickname="bOB"))
        with pytest.raises(IntegrityError):
            await session.commit()
