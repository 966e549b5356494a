"""GitHub: GET /user, and GET /user/emails when the address is private (scope user:email):
the primary verified address is the one we keep. GitHub gives no age."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from codebattle.accounts.providers import Profile, email_of, obj, subject_of, text, url_of

NAME = "github"


def primary_email(emails: Sequence[Any]) -> tuple[str | None, bool]:
    """(address, verified) from /user/emails: the primary verified address, else any
    verified one, else none."""
    entries = [obj(entry) for entry in emails if isinstance(entry, Mapping)]
    verified = [e for e in entries if e.get("verified") is True and email_of(e.get("email"))]
    for entry in sorted(verified, key=lambda e: e.get("primary") is not True):
        return email_of(entry.get("email")), True
    return None, False


def profile(user: Mapping[str, Any], emails: Sequence[Any] | None = None) -> Profile:
    """`user`: GET /user; `emails`: GET /user/emails (None when it was not asked: /user
    had a public address)."""
    public = email_of(user.get("email"))
    email: str | None
    if emails is None and public:
        # GitHub lets a person make public only one of their verified addresses.
        email, verified = public, True
    else:
        email, verified = primary_email(emails or [])
    return Profile(
        provider=NAME,
        subject=subject_of(user.get("id")),
        email=email,
        email_verified=verified,
        display_name=text(user.get("name"), 64) or text(user.get("login"), 64),
        avatar_url=url_of(user.get("avatar_url")),
    )
