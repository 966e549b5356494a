"""Naver: GET /v1/nid/me answers {"resultcode": "00", "message": "success", "response":
{...}}; anything else is an error (integrations/oauth.py turns those away before this).
Naver does not say whether an address is verified: only a naver.com address, the
account's own mailbox, counts as verified."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from codebattle.accounts.providers import (
    Profile,
    ProfileError,
    age_of,
    email_of,
    subject_of,
    text,
    url_of,
)

NAME = "naver"
OWN_MAILBOX = "@naver.com"


def profile(me: Mapping[str, Any], today: date | None = None) -> Profile:
    if me.get("resultcode") != "00" or not isinstance(me.get("response"), Mapping):
        raise ProfileError("not a successful profile answer")
    person: Mapping[str, Any] = me["response"]
    email = email_of(person.get("email"))
    band, year = age_of(person.get("birthyear"), person.get("age"), today)
    return Profile(
        provider=NAME,
        subject=subject_of(person.get("id")),
        email=email,
        email_verified=email is not None and email.lower().endswith(OWN_MAILBOX),
        display_name=text(person.get("nickname"), 64) or text(person.get("name"), 64),
        avatar_url=url_of(person.get("profile_image")),
        age_band=band,
        birth_year=year,
    )
