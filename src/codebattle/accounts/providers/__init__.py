"""What a sign-in provider tells us about a person, in our terms.

One module per provider (google, github, kakao, naver) turns that provider's profile JSON
into a `Profile`: pure functions, no HTTP (integrations/oauth.py fetches the JSON). A
profile that lacks what we need (a subject) raises `ProfileError`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

AgeBand = Literal["under14", "under19", "adult"]
UNDER14: AgeBand = "under14"
UNDER19: AgeBand = "under19"
ADULT: AgeBand = "adult"
CONSENT_AGE = 14  # under 14: a guardian consents (personal information law, art. 22-2)
ADULT_AGE = 19  # under 19: a minor for rewards
OLDEST = 120  # a birth year more than this many years ago is a typo


class ProfileError(ValueError):
    """The provider's profile is not what its API documents (no subject, not an object)."""


@dataclass(frozen=True)
class Profile:
    """A person as a provider describes them. `email_verified` says whether the provider
    vouches that the person controls `email`; `age_band` and `birth_year` are None when the
    provider gave no age (the first sign-in then asks)."""

    provider: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    display_name: str | None = None
    avatar_url: str | None = None
    age_band: AgeBand | None = None
    birth_year: int | None = None


def text(value: object, limit: int) -> str | None:
    """A non-empty string value, stripped and cut to `limit` characters; else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def subject_of(value: object) -> str:
    """A provider's user id (a number or a string) as our subject."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise ProfileError("no subject")
    return str(value).strip()[:255]


def email_of(value: object) -> str | None:
    email = text(value, 320)
    return email if email and "@" in email else None


def url_of(value: object) -> str | None:
    url = text(value, 512)
    return url if url and url.startswith(("https://", "http://")) else None


def obj(value: object) -> Mapping[str, Any]:
    """A JSON object, or an empty one for anything else."""
    return value if isinstance(value, Mapping) else {}


def parse_birth_year(value: object, year: int) -> int | None:
    """A plausible birth year in `year` ("1990" or 1990): ASCII digits only (str.isdigit and
    int() also take "²" or Arabic-Indic digits), from `year - OLDEST` to `year`; else None."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        return None
    born = int(text)
    return born if year - OLDEST <= born <= year else None


def birth_year_of(value: object, today: date) -> int | None:
    """A plausible birth year ("1990" or 1990), else None."""
    return parse_birth_year(value, today.year)


def band_of_birth_year(birth_year: int, year: int) -> AgeBand:
    """The band, in `year`, of a person born in `birth_year`. One year cannot tell whether
    the birthday has passed, so we take the younger possibility (conservative): age =
    `year - birth_year - 1`, for both borders. In 2026 someone born in 2012 counts as 13
    (under 14) all year, someone born in 2007 as 18 (under 19). The one rule for every
    band computed from a birth year (accounts.profiles.age_band_of uses it too)."""
    age = year - birth_year - 1
    if age < CONSENT_AGE:
        return UNDER14
    if age < ADULT_AGE:
        return UNDER19
    return ADULT


_RANGE = re.compile(r"^\s*(\d{1,3})\s*[~\-]\s*(\d{1,3})?\s*$")


def band_of_age_range(value: object) -> AgeBand | None:
    """The band of an age range such as Kakao's "15~19" or Naver's "20-29" (ages in full
    years; an open range "80~" has no upper end). A range that straddles a band's border
    ("10~14") says nothing for sure: None, and the first sign-in asks the birth year.
    A range from 14 up to 19 counts as under 19, on the side of the minor."""
    match = _RANGE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else None
    if high is not None and high < low:
        return None
    if high is not None and high < CONSENT_AGE:
        return UNDER14
    if low >= CONSENT_AGE and high is not None and high <= ADULT_AGE:
        return UNDER19
    if low >= ADULT_AGE:
        return ADULT
    return None


def age_of(
    birth_year: object, age_range: object, today: date | None = None
) -> tuple[AgeBand | None, int | None]:
    """(age band, birth year) from what a provider gave: the birth year when there is one,
    else the age range."""
    today = today or date.today()
    year = birth_year_of(birth_year, today) if birth_year not in (None, "") else None
    if year is not None:
        return band_of_birth_year(year, today.year), year
    return band_of_age_range(age_range), None
