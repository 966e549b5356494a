"""The audit log in words: an entry's action and its change ("open → denied") in the
reader's language, times in the site's zone, users by nickname.

Entries keep raw ids ("flag_decision", "suspend", a user id, a UTC time) so they can be
searched and never change; this module only says them. An action or value it does not
know is shown as stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from codebattle.accounts.models import AuditEntry
from codebattle.i18n import translate
from codebattle.web.render import format_local

# Actions whose old and new values name a user: by id in old entries, "nickname (#id)" in
# new ones (accounts.audit.user_label).
USER_VALUED = frozenset({"appeal_assign"})

# A stored value → the key that says it. Statuses, decisions, outcomes, roles, plans,
# appeal kinds; anything else is shown as it is.
VALUE_KEYS = {
    "open": "ops.flag.status.open",
    "answered": "appeals.status.answered",
    "decided": "ops.flag.status.decided",
    "overturned": "ops.flag.status.overturned",
    "granted": "appeals.outcome.granted",
    "denied": "appeals.outcome.denied",
    "dismiss": "ops.decision.dismiss",
    "warn": "ops.decision.warn",
    "void": "ops.decision.void",
    "suspend": "ops.decision.suspend",
    "ban": "ops.decision.ban",
    "lifted": "ops.audit.value.lifted",
    "refunded": "ops.audit.value.refunded",
    "player": "ops.role.player",
    "moderator": "ops.role.moderator",
    "operator": "ops.role.operator",
    "admin": "ops.role.admin",
    "free": "plans_name_free",
    "basic": "plans_name_basic",
    "pro": "plans_name_pro",
    "decision": "ops.audit.value.decision",
    "game": "ops.audit.value.game",
    "verdict": "ops.audit.value.verdict",
    "handled": "ops.feedback.state_handled",
}

ACTION_KEYS = {
    action: f"ops.audit.act.{action}"
    for action in (
        "role", "plan", "invite", "refund", "sanction_lift", "flag_decision", "flag_overturn",
        "match_void", "appeal_filed", "appeal_reply", "appeal_player_reply", "appeal_assign",
        "appeal_decide", "feedback", "gift_request", "gift_approve", "gift_reject",
        "gift_issued", "gift_failed", "gift_cancel",
    )
}  # fmt: skip

UTC_TIME = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC")  # accounts.plans._describe
PLAN_UNTIL = re.compile(r"^(\w+) until (.+)$")
USER_LABEL = re.compile(r"^(.+) \(#(\d+)\)$")


@dataclass(frozen=True)
class Row:
    """What the audit table shows of one entry."""

    action: str  # in words
    old: str
    new: str


def action_text(action: str, locale: str) -> str:
    key = ACTION_KEYS.get(action)
    return translate(key, locale) if key else action


def _local_times(text: str, zone: tzinfo) -> str:
    """Every "YYYY-MM-DD HH:MM UTC" in a stored value, in the site's zone instead."""

    def local(found: re.Match[str]) -> str:
        moment = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        return format_local(moment, zone)

    return UTC_TIME.sub(local, text)


def _user(value: str, names: dict[int, str]) -> str:
    """A user-valued entry's value: an id (old entries) or "nickname (#id)" (new ones),
    shown by the user's nickname now."""
    if value.isdigit():
        return names.get(int(value), "#" + value)
    found = USER_LABEL.match(value)
    if found:
        return names.get(int(found.group(2)), found.group(1))
    return value


def value_text(
    action: str, value: str | None, locale: str, zone: tzinfo, names: dict[int, str]
) -> str:
    if value is None or value == "":
        return "–"
    if action in USER_VALUED:
        return _user(value, names)
    key = VALUE_KEYS.get(value)
    if key:
        return translate(key, locale)
    until = PLAN_UNTIL.match(value)
    if until and until.group(1) in VALUE_KEYS:
        return translate(
            "ops.audit.value.until", locale,
            value=translate(VALUE_KEYS[until.group(1)], locale),
            until=_local_times(until.group(2), zone),
        )  # fmt: skip
    return _local_times(value, zone)


def user_ids(entries: list[AuditEntry]) -> set[int]:
    """The users the entries name: actors, subjects and the users in user-valued changes."""
    found = {i for e in entries for i in (e.actor_id, e.subject_user_id) if i}
    for entry in entries:
        if entry.action in USER_VALUED:
            for value in (entry.old, entry.new):
                if value and value.isdigit() and len(value) < 12:
                    found.add(int(value))
                elif value and (label := USER_LABEL.match(value)) and len(label.group(2)) < 12:
                    found.add(int(label.group(2)))
    return found


def describer(locale: str, zone: tzinfo) -> Callable[[AuditEntry, dict[int, str]], Row]:
    """The template's `audit_row(entry, names)`."""

    def audit_row(entry: AuditEntry, names: dict[int, str]) -> Row:
        return Row(
            action=action_text(entry.action, locale),
            old=value_text(entry.action, entry.old, locale, zone, names),
            new=value_text(entry.action, entry.new, locale, zone, names),
        )

    return audit_row
