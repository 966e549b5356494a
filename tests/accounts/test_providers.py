"""Each provider's profile JSON, shaped as its documentation shows it, in our terms; and
age bands from birth years and age ranges."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from codebattle.accounts import profiles
from codebattle.accounts.identities import profile_dict, profile_from_dict, profile_of
from codebattle.accounts.providers import (
    Profile,
    ProfileError,
    age_of,
    band_of_age_range,
    band_of_birth_year,
    birth_year_of,
    github,
    google,
    kakao,
    naver,
)

TODAY = date(2026, 12, 7)

GOOGLE_CLAIMS = {
    "iss": "https://accounts.google.com",
    "azp": "1234.apps.googleusercontent.com",
    "aud": "1234.apps.googleusercontent.com",
    "sub": "110169484474386276334",
    "email": "hana.kim@gmail.com",
    "email_verified": True,
    "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
    "name": "Hana Kim",
    "picture": "https://lh3.googleusercontent.com/a/ACg8ocK",
    "given_name": "Hana",
    "family_name": "Kim",
    "iat": 1765000000,
    "exp": 1765003600,
}

GITHUB_USER = {
    "login": "octocat",
    "id": 583231,
    "node_id": "MDQ6VXNlcjU4MzIzMQ==",
    "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
    "type": "User",
    "name": "The Octocat",
    "company": "@github",
    "email": None,
    "public_repos": 8,
}
GITHUB_EMAILS = [
    {"email": "old@example.com", "primary": False, "verified": True, "visibility": None},
    {"email": "unverified@example.com", "primary": False, "verified": False, "visibility": None},
    {
        "email": "octocat@github.com",
        "primary": True,
        "verified": True,
        "visibility": "private",
    },
]

KAKAO_ME = {
    "id": 3193245112,
    "connected_at": "2026-11-30T08:16:02Z",
    "properties": {"nickname": "홍길동", "profile_image": "http://k.kakaocdn.net/p/img.jpg"},
    "kakao_account": {
        "profile_nickname_needs_agreement": False,
        "profile_image_needs_agreement": False,
        "profile": {
            "nickname": "홍길동",
            "thumbnail_image_url": "http://k.kakaocdn.net/p/thumb.jpg",
            "profile_image_url": "http://k.kakaocdn.net/p/img.jpg",
            "is_default_image": False,
        },
        "has_email": True,
        "email_needs_agreement": False,
        "is_email_valid": True,
        "is_email_verified": True,
        "email": "gildong@kakao.com",
        "has_age_range": True,
        "age_range_needs_agreement": False,
        "age_range": "15~19",
        "has_birthyear": True,
        "birthyear_needs_agreement": False,
        "birthyear": "2009",
    },
}

NAVER_ME = {
    "resultcode": "00",
    "message": "success",
    "response": {
        "id": "32742776",
        "nickname": "OpenAPI",
        "name": "오픈 API",
        "email": "openapi@naver.com",
        "gender": "F",
        "age": "40-49",
        "birthday": "10-01",
        "profile_image": "https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif",
        "birthyear": "1980",
        "mobile": "010-0000-0000",
    },
}


def test_google() -> None:
    assert google.profile(GOOGLE_CLAIMS) == Profile(
        provider="google",
        subject="110169484474386276334",
        email="hana.kim@gmail.com",
        email_verified=True,
        display_name="Hana Kim",
        avatar_url="https://lh3.googleusercontent.com/a/ACg8ocK",
    )
    unverified = google.profile({**GOOGLE_CLAIMS, "email_verified": False})
    assert unverified.email == "hana.kim@gmail.com" and not unverified.email_verified
    assert google.profile({**GOOGLE_CLAIMS, "email_verified": "true"}).email_verified


def test_github_private_email_is_the_primary_verified_one() -> None:
    profile = github.profile(GITHUB_USER, GITHUB_EMAILS)
    assert profile == Profile(
        provider="github",
        subject="583231",
        email="octocat@github.com",
        email_verified=True,
        display_name="The Octocat",
        avatar_url="https://avatars.githubusercontent.com/u/583231?v=4",
    )
    # No primary verified address: another verified one; none verified: no address.
    others = [dict(e, primary=False) for e in GITHUB_EMAILS]
    assert github.profile(GITHUB_USER, others).email == "old@example.com"
    assert github.profile(GITHUB_USER, [GITHUB_EMAILS[1]]).email is None
    # A public address needs no /user/emails; without a name the login is shown.
    public = github.profile({**GITHUB_USER, "email": "octo@example.com", "name": None})
    assert (public.email, public.email_verified, public.display_name) == (
        "octo@example.com",
        True,
        "octocat",
    )


def test_kakao_with_birth_year_age_range_and_verified_email() -> None:
    assert kakao.profile(KAKAO_ME, TODAY) == Profile(
        provider="kakao",
        subject="3193245112",
        email="gildong@kakao.com",
        email_verified=True,
        display_name="홍길동",
        avatar_url="http://k.kakaocdn.net/p/img.jpg",
        age_band="under19",
        birth_year=2009,
    )


def test_kakao_without_agreements() -> None:
    account: dict[str, Any] = {
        "profile_nickname_needs_agreement": True,
        "has_email": True,
        "email_needs_agreement": True,
        "has_age_range": True,
        "age_range_needs_agreement": True,
    }
    profile = kakao.profile({"id": 42, "kakao_account": account}, TODAY)
    assert profile == Profile(provider="kakao", subject="42")
    # An address Kakao has not verified (or no longer valid) is kept as unverified.
    for flags in ({"is_email_verified": False}, {"is_email_valid": False}):
        shared = {"email": "a@b.kr", "is_email_valid": True, "is_email_verified": True, **flags}
        assert not kakao.profile({"id": 1, "kakao_account": shared}, TODAY).email_verified
    # The age range alone (no birth year).
    young = kakao.profile({"id": 1, "kakao_account": {"age_range": "1~9"}}, TODAY)
    assert (young.age_band, young.birth_year) == ("under14", None)


def test_naver_profile_and_its_errors() -> None:
    assert naver.profile(NAVER_ME, TODAY) == Profile(
        provider="naver",
        subject="32742776",
        email="openapi@naver.com",
        email_verified=True,  # the account's own naver.com mailbox
        display_name="OpenAPI",
        avatar_url="https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif",
        age_band="adult",
        birth_year=1980,
    )
    other = {**NAVER_ME, "response": {**NAVER_ME["response"], "email": "me@example.com"}}  # type: ignore[dict-item]
    assert not naver.profile(other, TODAY).email_verified
    with pytest.raises(ProfileError):
        naver.profile({"resultcode": "024", "message": "Authentication failed"}, TODAY)
    with pytest.raises(ProfileError):
        naver.profile({"resultcode": "00", "message": "success"}, TODAY)


@pytest.mark.parametrize(
    "data",
    [{}, {"id": None}, {"id": ""}, {"id": True}, {"id": ["1"]}],
)
def test_a_profile_without_a_subject_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ProfileError):
        kakao.profile(data, TODAY)
    with pytest.raises(ProfileError):
        github.profile(data)
    with pytest.raises(ProfileError):
        google.profile({"sub": data.get("id")})


def test_profile_of_dispatches_and_round_trips() -> None:
    profile = profile_of("github", {"user": GITHUB_USER, "emails": GITHUB_EMAILS})
    assert profile.email == "octocat@github.com"
    assert profile_from_dict(profile_dict(profile)) == profile
    assert profile_dict(profile)["provider"] == "github"
    with pytest.raises(ProfileError):
        profile_of("facebook", {"id": 1})


def test_odd_values_are_dropped_not_trusted() -> None:
    profile = google.profile(
        {"sub": 7, "email": "no-at-sign", "name": "  ", "picture": "javascript:alert(1)"}
    )
    assert profile == Profile(provider="google", subject="7")


@pytest.mark.parametrize(
    ("year", "band"),
    [
        (2014, "under14"),
        (2012, "under14"),
        (2011, "under19"),
        (2008, "under19"),
        (2007, "under19"),
        (2006, "adult"),
    ],
)
def test_band_of_birth_year_leans_young(year: int, band: str) -> None:
    # In 2026 someone born in 2012 is 13 or 14: under 14 while it may still be 13. The
    # same rule for under 19: born in 2007, 18 or 19, counts as 18.
    assert band_of_birth_year(year, TODAY.year) == band


def test_the_providers_band_and_the_profiles_band_agree() -> None:
    for born in range(2026 - 120, 2027):
        assert profiles.age_band(born, 2026) == band_of_birth_year(born, 2026)
        data = {"birth_year": born, "age_band": None}
        assert profiles.provider_age(data, 2026) == (born, band_of_birth_year(born, 2026))
    assert age_of(2007, "20~29", TODAY) == ("under19", 2007)  # the birth year decides


@pytest.mark.parametrize(
    "value", ["²", "١٩٩٠", "１９９０", "1_990", " ", "-5", "99999", "9" * 5000]
)
def test_birth_year_of_takes_ascii_digits_only(value: str) -> None:
    assert birth_year_of(value, TODAY) is None
    assert age_of(value, None, TODAY) == (None, None)


def test_birth_year_of_a_plausible_year() -> None:
    assert birth_year_of(" 1990 ", TODAY) == 1990
    assert birth_year_of(1990, TODAY) == 1990
    assert birth_year_of(True, TODAY) is None
    assert birth_year_of(1905, TODAY) is None  # more than 120 years ago


@pytest.mark.parametrize(
    ("age_range", "band"),
    [
        ("1~9", "under14"),
        ("10~14", None),  # a 14-year-old is not under 14: the birth year is asked
        ("15~19", "under19"),
        ("14~19", "under19"),
        ("20~29", "adult"),
        ("80~", "adult"),
        ("20-29", "adult"),  # Naver's
        ("0-9", "under14"),
        ("", None),
        ("unknown", None),
        (None, None),
    ],
)
def test_band_of_age_range(age_range: str | None, band: str | None) -> None:
    assert band_of_age_range(age_range) == band
