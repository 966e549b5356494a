"""Kakao: GET /v2/user/me. The person's details are in `kakao_account` (each only when the
person agreed to share it): profile, email with is_email_valid / is_email_verified,
age_range ("15~19") and birthyear ("2008")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from codebattle.accounts.providers import (
    Profile,
    age_of,
    email_of,
    obj,
    subject_of,
    text,
    url_of,
)

NAME = "kakao"


def profile(me: Mapping[str, Any], today: date | None = None) -> Profile:
    account = obj(me.get("kakao_account"))
    details = obj(account.get("profile"))
    properties = obj(me.get("properties"))  # the older place for nickname and image
    email = email_of(account.get("email"))
    verified = (
        email is not None
        and account.get("is_email_valid") is not False
        and account.get("is_email_verified") is True
    )
    band, year = age_of(account.get("birthyear"), account.get("age_range"), today)
    return Profile(
        provider=NAME,
        subject=subject_of(me.get("id")),
        email=email,
        email_verified=verified,
        display_name=text(details.get("nickname"), 64) or text(properties.get("nickname"), 64),
        avatar_url=url_of(details.get("profile_image_url"))
        or url_of(properties.get("profile_image")),
        age_band=band,
        birth_year=year,
    )
