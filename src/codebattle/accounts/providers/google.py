"""Google (OpenID Connect): the ID token's claims, checked against Google's keys by
integrations/oauth.py. Google gives no age."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codebattle.accounts.providers import Profile, email_of, subject_of, text, url_of

NAME = "google"


def profile(claims: Mapping[str, Any]) -> Profile:
    """`claims`: the ID token's (sub, email, email_verified, name, picture)."""
    email = email_of(claims.get("email"))
    verified = claims.get("email_verified")
    return Profile(
        provider=NAME,
        subject=subject_of(claims.get("sub")),
        email=email,
        # Some tokens carry the flag as the string "true".
        email_verified=email is not None and (verified is True or verified == "true"),
        display_name=text(claims.get("name"), 64) or text(claims.get("given_name"), 64),
        avatar_url=url_of(claims.get("picture")),
    )
