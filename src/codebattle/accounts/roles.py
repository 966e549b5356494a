"""Who is staff: operators and admins review fair play, answer appeals and run the
dashboard (moderators handle chat only). One rule for every check, pages and services
alike: a deleted or banned account is nobody's staff, whatever its role says (an operator
banned on a flag must not be able to overturn the ban)."""

from __future__ import annotations

from codebattle.accounts.models import User

STAFF_ROLES = ("operator", "admin")


def is_staff(user: User | None) -> bool:
    return (
        user is not None
        and user.role in STAFF_ROLES
        and user.deleted_at is None
        and user.banned_at is None
    )
