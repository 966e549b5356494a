"""Appeals through their whole life: a player files one about something of their own (an
operator's decision on a flag about them, a game they played, a verdict of their
submission); operators answer in a thread, assign it, and decide it (granted or denied).

Each appeal has two deadlines worked out when it is filed (ops/sla.py): the first answer
and the decision. The operators' queue sorts open appeals by the time left to the next one.

Every change is committed with its audit entry ("appeal_*", target "appeal:<id>") and the
player's notification, then the appeal's state after it goes to the log seam's `appeals`
index (one record per change, the newest is the current state; nothing about other players).

A granted verdict appeal does not judge the submission again: recording a verdict is
idempotent (submissions/recording.py keeps the first), so a job sent again would change
nothing. The outcome is recorded and the operator's message says what follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit
from codebattle.accounts.models import Sanction, User
from codebattle.accounts.notifications import notify
from codebattle.accounts.roles import STAFF_ROLES, is_staff
from codebattle.battles import fsm
from codebattle.battles.models import MatchPlayer, MatchRow
from codebattle.config import Settings
from codebattle.errors import UserError
from codebattle.fairplay import models as fairplay
from codebattle.logsink import APPEALS, LogWriter
from codebattle.ops import decisions, sla
from codebattle.ops.models import (
    ANSWERED,
    APPEAL_KINDS,
    DECIDED,
    DECISION,
    DENIED,
    GAME,
    GRANTED,
    OPEN,
    VERDICT,
    Appeal,
    AppealMessage,
)
from codebattle.submissions.models import SUBMIT, Submission
from codebattle.text import printable

MIN_TEXT, MAX_TEXT = 10, 4000  # a player's words
PER_DAY = 5  # appeals a player may file in 24 hours
DAY = timedelta(days=1)
OUTCOMES = (GRANTED, DENIED)
FIRST_RESPONSE, DECISION_DUE = "first_response", "decision"  # which deadline is next
# Statuses the operators' queue shows by default: not decided yet.
PENDING = (OPEN, ANSWERED)
MINE, UNASSIGNED, ALL = "mine", "unassigned", "all"


def calendar_of(settings: Settings) -> sla.Calendar:
    """How appeals' days are counted, from the settings."""
    return sla.Calendar(
        settings.APPEAL_DAY_COUNT, settings.plan_zone, settings.APPEAL_HOLIDAYS_COUNTRY
    )


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def check_text(text: str | None, minimum: int = MIN_TEXT) -> str:
    """The text as kept: printable, trimmed, MIN..MAX_TEXT characters long (else 422), so a
    form can check it before its confirm step."""
    words = printable(text or "", newlines=True).strip()
    if len(words) < minimum or len(words) > MAX_TEXT:
        raise UserError(422, "appeal_text_length", min=minimum, max=MAX_TEXT)
    return words


# --- filing ---------------------------------------------------------------------------


async def check_target(
    session: AsyncSession,
    user: User,
    kind: str,
    flag_id: int | None,
    match_id: int | None,
    submission_id: int | None,
) -> tuple[int | None, int | None, int | None]:
    """The target's ids as stored on the appeal; 404 unless it is the user's own and can be
    appealed (a decided flag about them, a finished game they played, a judged submission)."""
    if kind == DECISION and flag_id is not None:
        flag = await session.get(fairplay.Flag, flag_id)
        if (
            flag is None
            or flag.user_id != user.id
            or flag.status != fairplay.DECIDED
            or flag.decision in (None, fairplay.DISMISS)
        ):
            raise UserError(404, "not_found")
        return flag.id, flag.match_id, flag.submission_id
    if kind == GAME and match_id is not None:
        match = await session.get(MatchRow, match_id)
        played = await session.get(MatchPlayer, (match_id, user.id))
        if match is None or played is None or match.state != fsm.State.finished:
            raise UserError(404, "not_found")
        return None, match.id, None
    if kind == VERDICT and submission_id is not None:
        submission = await session.get(Submission, submission_id)
        if (
            submission is None
            or submission.user_id != user.id
            or submission.kind != SUBMIT
            or submission.verdict is None
        ):
            raise UserError(404, "not_found")
        return None, submission.match_id, submission.id
    raise UserError(404, "not_found")


def _target_clause(kind: str, flag_id: int | None, match_id: int | None, sub_id: int | None) -> Any:
    if kind == DECISION:
        return Appeal.flag_id == flag_id
    if kind == GAME:
        return Appeal.match_id == match_id
    return Appeal.submission_id == sub_id


async def file(
    session: AsyncSession,
    user: User,
    kind: str,
    text: str,
    *,
    flag_id: int | None = None,
    match_id: int | None = None,
    submission_id: int | None = None,
    settings: Settings,
    now: datetime | None = None,
    log: LogWriter | None = None,
) -> Appeal:
    """File `user`'s appeal about their own flag decision, game or verdict, committed; its
    first message is their text. Refusals: 422 unknown kind or text outside MIN..MAX_TEXT,
    404 not theirs, 409 `appeal_exists` (one not decided yet about the same thing), 409
    `appeal_decided_before` (one about it was decided: that is final), 429 over PER_DAY in
    24 hours."""
    moment = _now(now)
    if kind not in APPEAL_KINDS:
        raise UserError(422, "appeal_kind_invalid")
    words = check_text(text)
    flag_id, match_id, submission_id = await check_target(
        session, user, kind, flag_id, match_id, submission_id
    )
    # Two requests at once must not both pass the checks: the player's row is locked on
    # PostgreSQL (SQLite serialises writers anyway).
    await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    existing = await session.scalar(
        select(Appeal.id).where(
            Appeal.user_id == user.id,
            Appeal.kind == kind,
            Appeal.status != DECIDED,
            _target_clause(kind, flag_id, match_id, submission_id),
        )
    )
    if existing is not None:
        raise UserError(409, "appeal_exists", id=existing)
    decided = await decided_before(session, user.id, kind, flag_id, match_id, submission_id)
    if decided is not None:
        raise UserError(409, "appeal_decided_before", id=decided)
    recent = await session.scalar(
        select(func.count())
        .select_from(Appeal)
        .where(Appeal.user_id == user.id, Appeal.created_at >= moment - DAY)
    )
    if (recent or 0) >= PER_DAY:
        raise UserError(429, "appeals_per_day", limit=PER_DAY)
    calendar = calendar_of(settings)
    appeal = Appeal(
        user_id=user.id, kind=kind, flag_id=flag_id, match_id=match_id,
        submission_id=submission_id, text=words, status=OPEN, created_at=moment,
        first_response_due=calendar.add_days(moment, settings.APPEAL_SLA_DAYS),
        decision_due=calendar.add_days(moment, settings.APPEAL_DECISION_DAYS),
    )  # fmt: skip
    session.add(appeal)
    await session.flush()
    session.add(
        AppealMessage(
            appeal_id=appeal.id, author_id=user.id, staff=False, text=words, created_at=moment
        )
    )
    audit.record(
        session, user.id, user.nickname, "appeal_filed", user.id, None, kind,
        _target_text(appeal), target=f"appeal:{appeal.id}",
    )  # fmt: skip
    await session.commit()
    await _emit(session, log, appeal, "filed", moment)
    return appeal


async def decided_before(
    session: AsyncSession,
    user_id: int,
    kind: str,
    flag_id: int | None,
    match_id: int | None,
    submission_id: int | None,
) -> int | None:
    """The id of the player's decided appeal about this target, if any: a decision on an
    appeal is final for its target, so no second one is filed about it."""
    found = await session.scalar(
        select(Appeal.id)
        .where(
            Appeal.user_id == user_id,
            Appeal.kind == kind,
            Appeal.status == DECIDED,
            _target_clause(kind, flag_id, match_id, submission_id),
        )
        .order_by(Appeal.id.desc())
        .limit(1)
    )
    return int(found) if found is not None else None


def _target_text(appeal: Appeal) -> str:
    if appeal.kind == DECISION:
        return f"flag:{appeal.flag_id}"
    if appeal.kind == GAME:
        return f"match:{appeal.match_id}"
    return f"submission:{appeal.submission_id}"


# --- the thread -----------------------------------------------------------------------


async def _appeal(session: AsyncSession, appeal_id: int, *, lock: bool = False) -> Appeal:
    query = select(Appeal).where(Appeal.id == appeal_id)
    if lock:
        query = query.with_for_update()
    appeal = await session.scalar(query)
    if appeal is None:
        raise UserError(404, "not_found")
    return appeal


def _require_staff(actor: User) -> None:
    if not is_staff(actor):
        raise UserError(404, "not_found")


def _not_own(appeal: Appeal, actor: User) -> None:
    """Staff never answer, assign or decide their own appeal: another operator does."""
    if appeal.user_id == actor.id:
        raise UserError(403, "own_case")


async def reply(
    session: AsyncSession,
    appeal_id: int,
    actor: User,
    text: str,
    now: datetime | None = None,
    *,
    log: LogWriter | None = None,
) -> AppealMessage:
    """An operator's message in the thread, committed; the first one answers the appeal
    (first_response_at, status ANSWERED). The player is notified. 409 once decided."""
    _require_staff(actor)
    moment = _now(now)
    words = check_text(text, minimum=1)
    appeal = await _appeal(session, appeal_id, lock=True)
    _not_own(appeal, actor)
    if appeal.status == DECIDED:
        raise UserError(409, "appeal_decided")
    message = AppealMessage(
        appeal_id=appeal.id, author_id=actor.id, staff=True, text=words, created_at=moment
    )
    session.add(message)
    old = appeal.status
    if appeal.first_response_at is None:
        appeal.first_response_at = moment
        appeal.status = ANSWERED
    audit.record(
        session, actor.id, actor.nickname, "appeal_reply", appeal.user_id, old, appeal.status,
        "", target=f"appeal:{appeal.id}",
    )  # fmt: skip
    _notify(session, appeal, "appeal_answered")
    await session.commit()
    await _emit(session, log, appeal, "reply", moment)
    return message


async def player_reply(
    session: AsyncSession,
    appeal_id: int,
    user: User,
    text: str,
    now: datetime | None = None,
    *,
    log: LogWriter | None = None,
) -> AppealMessage:
    """The owner's message in their appeal's thread, committed (404 for anyone else, 409
    once decided)."""
    moment = _now(now)
    appeal = await _appeal(session, appeal_id, lock=True)
    if appeal.user_id != user.id:
        raise UserError(404, "not_found")
    words = check_text(text, minimum=1)
    if appeal.status == DECIDED:
        raise UserError(409, "appeal_decided")
    message = AppealMessage(
        appeal_id=appeal.id, author_id=user.id, staff=False, text=words, created_at=moment
    )
    session.add(message)
    audit.record(
        session, user.id, user.nickname, "appeal_player_reply", user.id, None, None, "",
        target=f"appeal:{appeal.id}",
    )  # fmt: skip
    await session.commit()
    await _emit(session, log, appeal, "player_reply", moment)
    return message


async def assign(
    session: AsyncSession,
    appeal_id: int,
    operator_id: int | None,
    actor: User,
    now: datetime | None = None,
    *,
    log: LogWriter | None = None,
) -> Appeal:
    """Give the appeal to an operator or admin (None: to nobody), committed. 403 on one's
    own appeal; 422 when `operator_id` is not staff or is the appeal's owner."""
    _require_staff(actor)
    moment = _now(now)
    appeal = await _appeal(session, appeal_id, lock=True)
    _not_own(appeal, actor)
    if operator_id is not None and (
        operator_id == appeal.user_id or not is_staff(await session.get(User, operator_id))
    ):
        raise UserError(422, "appeal_assignee_invalid")
    old = appeal.assigned_to
    appeal.assigned_to = operator_id
    audit.record(
        session, actor.id, actor.nickname, "appeal_assign", appeal.user_id,
        await audit.user_label(session, old), await audit.user_label(session, operator_id),
        "", target=f"appeal:{appeal.id}",
    )  # fmt: skip
    await session.commit()
    await _emit(session, log, appeal, "assign", moment)
    return appeal


async def decide(
    session: AsyncSession,
    appeal_id: int,
    actor: User,
    outcome: str,
    text: str,
    now: datetime | None = None,
    *,
    log: LogWriter | None = None,
    outside: decisions.Outside | None = None,
) -> Appeal:
    """Decide the appeal, committed: the text becomes an operator's message; GRANTED
    overturns the flag's decision (DECISION) or voids the game (GAME) in the same
    transaction; a granted VERDICT is recorded (see the module's note). 409 if decided.
    `outside` tells live pages and sessions of what the decision undid."""
    _require_staff(actor)
    if outcome not in OUTCOMES:
        raise UserError(422, "appeal_outcome_invalid")
    moment = _now(now)
    words = check_text(text, minimum=decisions.REASON_MIN)
    appeal = await _appeal(session, appeal_id, lock=True)
    _not_own(appeal, actor)
    if appeal.status == DECIDED:
        raise UserError(409, "appeal_decided")
    old = appeal.status
    session.add(
        AppealMessage(
            appeal_id=appeal.id, author_id=actor.id, staff=True, text=words, created_at=moment
        )
    )
    appeal.status, appeal.outcome = DECIDED, outcome
    appeal.decided_at, appeal.decided_by = moment, actor.id
    if appeal.first_response_at is None:  # a decision answers it too
        appeal.first_response_at = moment
    audit.record(
        session, actor.id, actor.nickname, "appeal_decide", appeal.user_id, old, outcome,
        words, target=f"appeal:{appeal.id}",
    )  # fmt: skip
    _notify(session, appeal, "appeal_decided")
    if outcome == GRANTED:
        await _grant(session, appeal, actor, words, moment, outside)
    await session.commit()
    await _emit(session, log, appeal, "decided", moment)
    return appeal


async def _grant(
    session: AsyncSession,
    appeal: Appeal,
    actor: User,
    words: str,
    moment: datetime,
    outside: decisions.Outside | None,
) -> None:
    """What a granted appeal undoes, in the decision's transaction (ops.decisions commits
    it). The operator's message is the reason the player reads, cut to its limit. A flag
    whose decision was overturned already (on its own page) has nothing left to undo: the
    appeal is still decided."""
    reason = (
        words if len(words) <= decisions.REASON_MAX else words[: decisions.REASON_MAX - 1] + "…"
    )
    if appeal.kind == DECISION and appeal.flag_id is not None:
        flag = await session.get(fairplay.Flag, appeal.flag_id)
        if flag is None or flag.status == fairplay.OVERTURNED:
            return
        await decisions.overturn(session, appeal.flag_id, actor, reason, moment, outside=outside)
    elif appeal.kind == GAME and appeal.match_id is not None:
        await decisions.void_match(
            session, appeal.match_id, actor, reason, moment, source=f"appeal:{appeal.id}",
            outside=outside,
        )  # fmt: skip


# --- notifications and the log seam ---------------------------------------------------


def _notify(session: AsyncSession, appeal: Appeal, kind: str) -> None:
    notify(session, appeal.user_id, kind, {"id": appeal.id}, f"/appeals/{appeal.id}")


async def _message_count(session: AsyncSession, appeal_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(AppealMessage).where(AppealMessage.appeal_id == appeal_id)
    )
    return int(count or 0)


def document(appeal: Appeal, messages: int, at: datetime) -> dict[str, Any]:
    """A log seam `appeals` record: the appeal's state, never anyone else's data."""
    return {
        "id": appeal.id,
        "user_id": appeal.user_id,
        "kind": appeal.kind,
        "flag_id": appeal.flag_id,
        "match_id": appeal.match_id,
        "submission_id": appeal.submission_id,
        "status": appeal.status,
        "outcome": appeal.outcome,
        "assigned_to": appeal.assigned_to,
        "created_at": appeal.created_at,
        "first_response_due": appeal.first_response_due,
        "decision_due": appeal.decision_due,
        "first_response_at": appeal.first_response_at,
        "decided_at": appeal.decided_at,
        "messages": messages,
        "at": at,
    }


async def _emit(
    session: AsyncSession, log: LogWriter | None, appeal: Appeal, event: str, at: datetime
) -> None:
    """The appeal's state after `event`, as one record: the table sink keeps the first
    record of a doc_id (retries stay one row), so each change has its own id and the
    appeal's newest record (by `at`) is its current state."""
    if log is None:
        return
    body = document(appeal, await _message_count(session, appeal.id), at)
    body["event"] = event
    await session.commit()  # the count's read ends its transaction
    log.emit(APPEALS, f"{appeal.id}:{event}:{round(at.timestamp() * 1000)}", body)


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionFacts:
    """What the player was told about the decision an appeal questions, in their words:
    which decision, when, the reason shown to them, its game, a suspension's end."""

    decision: str  # fairplay WARN | VOID | SUSPEND | BAN
    decided_at: datetime | None
    reason: str
    match_id: int | None
    until: datetime | None  # a suspension's end (its sanction), else None
    overturned: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision, "decided_at": self.decided_at, "reason": self.reason,
            "match_id": self.match_id, "until": self.until, "overturned": self.overturned,
        }  # fmt: skip


async def decision_facts(session: AsyncSession, flag_ids: list[int]) -> dict[int, DecisionFacts]:
    """The decisions on these flags by flag id (flags without one are left out)."""
    if not flag_ids:
        return {}
    rows = (
        await session.execute(
            select(fairplay.Flag, Sanction.ends_at)
            .outerjoin(Sanction, Sanction.id == fairplay.Flag.sanction_id)
            .where(fairplay.Flag.id.in_(set(flag_ids)), fairplay.Flag.decision.is_not(None))
        )
    ).all()
    return {
        flag.id: DecisionFacts(
            flag.decision or "",
            flag.decided_at,
            flag.decision_reason or "",
            flag.match_id,
            ends_at if flag.decision == fairplay.SUSPEND else None,
            flag.overturned_at is not None,
        )  # fmt: skip
        for flag, ends_at in rows
    }


@dataclass(frozen=True)
class Queued:
    """An undecided appeal in the operators' queue with its next deadline."""

    appeal: Appeal
    nickname: str
    assignee: str | None
    deadline: str  # FIRST_RESPONSE while unanswered, else DECISION_DUE
    due: datetime
    urgency: str  # sla.OK | SOON | LAPSED
    seconds_left: float
    decision: str | None = None  # for a DECISION appeal: the decision appealed (ban, ...)

    def to_dict(self) -> dict[str, Any]:
        a = self.appeal
        return {
            "id": a.id, "kind": a.kind, "status": a.status, "user": {"id": a.user_id,
            "nickname": self.nickname}, "assigned_to": a.assigned_to, "assignee": self.assignee,
            "flag_id": a.flag_id, "match_id": a.match_id, "submission_id": a.submission_id,
            "created_at": a.created_at, "deadline": self.deadline, "due": self.due,
            "urgency": self.urgency, "seconds_left": round(self.seconds_left),
            "decision": self.decision,
        }  # fmt: skip


def next_deadline(appeal: Appeal) -> tuple[str, datetime]:
    if appeal.first_response_at is None:
        return FIRST_RESPONSE, appeal.first_response_due
    return DECISION_DUE, appeal.decision_due


@dataclass(frozen=True)
class Deadline:
    """An undecided appeal's next deadline as the dashboard reads it at one moment."""

    which: str  # FIRST_RESPONSE while unanswered, else DECISION_DUE
    due: datetime
    urgency: str  # sla.OK | SOON | LAPSED
    seconds_left: float


def deadline_of(appeal: Appeal, now: datetime, warn_hours: float) -> Deadline:
    which, due = next_deadline(appeal)
    return Deadline(which, due, sla.urgency(due, now, warn_hours), sla.seconds_left(due, now))


async def queue(
    session: AsyncSession,
    now: datetime | None,
    settings: Settings,
    *,
    status: str | None = None,
    assigned: str = ALL,
    operator_id: int | None = None,
) -> list[Queued]:
    """Undecided appeals (or those of `status`, OPEN or ANSWERED) by time left to their next
    deadline, the most urgent first. `assigned`: MINE (`operator_id`'s), UNASSIGNED, ALL."""
    moment = _now(now)
    statuses = [status] if status in PENDING else list(PENDING)
    assignee = User.__table__.alias("assignee")
    query = (
        select(Appeal, User.nickname, assignee.c.nickname, fairplay.Flag.decision)
        .join(User, User.id == Appeal.user_id)
        .outerjoin(assignee, assignee.c.id == Appeal.assigned_to)
        .outerjoin(fairplay.Flag, fairplay.Flag.id == Appeal.flag_id)
        .where(Appeal.status.in_(statuses))
    )
    if assigned == MINE:
        query = query.where(Appeal.assigned_to == operator_id)
    elif assigned == UNASSIGNED:
        query = query.where(Appeal.assigned_to.is_(None))
    found = []
    for appeal, nickname, assignee_name, decision in (await session.execute(query)).all():
        next_one = deadline_of(appeal, moment, settings.APPEAL_SLA_WARN_HOURS)
        found.append(
            Queued(
                appeal,
                nickname,
                assignee_name,
                next_one.which,
                next_one.due,
                next_one.urgency,
                next_one.seconds_left,
                decision,
            )  # fmt: skip
        )
    found.sort(key=lambda q: (q.seconds_left, q.appeal.id))
    return found


async def of_user(session: AsyncSession, user_id: int) -> list[Appeal]:
    """A player's appeals, the newest first."""
    return list(
        await session.scalars(
            select(Appeal)
            .where(Appeal.user_id == user_id)
            .order_by(Appeal.created_at.desc(), Appeal.id.desc())
        )
    )


async def get(session: AsyncSession, appeal_id: int, viewer: User) -> Appeal:
    """An appeal its owner or an operator may read; 404 for anyone else."""
    appeal = await session.get(Appeal, appeal_id)
    if appeal is None or (appeal.user_id != viewer.id and not is_staff(viewer)):
        raise UserError(404, "not_found")
    return appeal


async def thread(session: AsyncSession, appeal_id: int) -> list[AppealMessage]:
    """The appeal's messages, oldest first."""
    return list(
        await session.scalars(
            select(AppealMessage)
            .where(AppealMessage.appeal_id == appeal_id)
            .order_by(AppealMessage.created_at, AppealMessage.id)
        )
    )


async def staff(session: AsyncSession) -> list[User]:
    """Operators and admins an appeal can be assigned to."""
    return list(
        await session.scalars(
            select(User)
            .where(User.role.in_(STAFF_ROLES), User.deleted_at.is_(None), User.banned_at.is_(None))
            .order_by(User.nickname)
        )
    )
