"""What an operator reads about a flag (issue 13: "every flag shows its evidence"): the flag
list, and one flag with its reasons and each signal's evidence made readable: the matched
code side by side with its line ranges, the pastes as a timeline, typing figures, solve
time against the median, GPTZero's answer, the reporters' words.

Plain dicts for the pages and their JSON twins; no text of their own (the templates word
them). Evidence is read as stored (risk.Signal.to_dict); a field missing from it shows as
missing rather than failing the page: an operator must always see what is there."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.battles.models import MatchPlayer, MatchRow
from codebattle.battles.service import RATING_VOIDED
from codebattle.fairplay import assess, risk
from codebattle.fairplay.models import DECIDED, OPEN, OVERTURNED, Flag, PlayerReport, RiskAssessment
from codebattle.problems.models import ProblemVersion
from codebattle.storage import BlobStore
from codebattle.submissions import service as submissions
from codebattle.submissions.models import SUBMIT, Submission

LIST_LIMIT = 200
HISTORY_LIMIT = 10  # recent games and flags shown per player on a flag's page
# The queue's filters: waiting for a decision, decided (overturned ones too), or every flag.
FILTERS = ("open", "decided", "all")
MAX_LINES = 2000  # lines of code shown per side (64 KiB of code is well under)


async def flag_list(
    session: AsyncSession, status: str = "all", limit: int = LIST_LIMIT
) -> list[dict[str, Any]]:
    """The queue: high flags before review ones, the oldest first within a level (it has
    waited longest), with the flagged player's name. `status` is one of FILTERS."""
    query = select(Flag, User.nickname).join(User, User.id == Flag.user_id)
    if status == "open":
        query = query.where(Flag.status == OPEN)
    elif status == "decided":
        query = query.where(Flag.status.in_((DECIDED, OVERTURNED)))
    high_first = case((Flag.level == "high", 0), else_=1)
    rows = (
        await session.execute(query.order_by(high_first, Flag.created_at, Flag.id).limit(limit))
    ).all()
    return [_flag_json(flag, nickname) for flag, nickname in rows]


def _flag_json(flag: Flag, nickname: str) -> dict[str, Any]:
    return {
        "id": flag.id,
        "key": flag.key,
        "source": flag.source,
        "level": flag.level,
        "score": round(flag.score, 4),
        "status": flag.status,
        "user": {"id": flag.user_id, "nickname": nickname},
        "match_id": flag.match_id,
        "room_id": flag.room_id,
        "submission_id": flag.submission_id,
        "reasons": list(flag.reasons or []),
        "created_at": flag.created_at,
        "decision": flag.decision,
        "decision_reason": flag.decision_reason,
        "decided_at": flag.decided_at,
        "decided_by": flag.decided_by,
        "sanction_id": flag.sanction_id,
        "overturned_at": flag.overturned_at,
    }


async def flag_detail(
    session: AsyncSession, blobs: BlobStore, flag_id: int
) -> dict[str, Any] | None:
    """One flag with every signal's evidence ready to show; None if there is no such flag."""
    found = (
        await session.execute(
            select(Flag, User.nickname)
            .join(User, User.id == Flag.user_id)
            .where(Flag.id == flag_id)
        )
    ).first()
    if found is None:
        return None
    flag, nickname = found
    data = _flag_json(flag, nickname)
    assessment = (
        await session.get(RiskAssessment, flag.assessment_id) if flag.assessment_id else None
    )
    signals = [risk.Signal.from_dict(s).to_dict() | _extra(s) for s in _signals(assessment)]
    if flag.report_id is not None and not any(s["signal"] == risk.REPORTS for s in signals):
        report = await session.get(PlayerReport, flag.report_id)
        if report is not None:
            signals.append(_report_signal(report))
    if assessment is not None:
        data["assessment"] = {
            "id": assessment.id, "key": assessment.key, "scope": assessment.scope,
            "score": assessment.score, "level": assessment.level,
        }  # fmt: skip
    own_submission = await _own_submission(session, flag, assessment)
    names = await _nicknames(session, _user_ids(signals))
    start = await assess.game_start(session, flag.match_id, flag.room_id)
    data["game_start"] = datetime.fromtimestamp(start, UTC) if start is not None else None
    data["signals"] = [
        await _readable(session, blobs, signal, own_submission, names, start) for signal in signals
    ]
    data["related"] = await _related(session, flag)
    data["history"] = await _history(session, flag)
    if flag.decided_by is not None:
        data["decided_by_nickname"] = (await _nicknames(session, {flag.decided_by})).get(
            flag.decided_by
        )
    return data


async def _history(session: AsyncSession, flag: Flag) -> list[dict[str, Any]]:
    """Both players' history: the flagged player's and each opponent's (a match's other
    players; a room has no single opponent) recent games and flags, newest first."""
    user_ids = [flag.user_id]
    if flag.match_id is not None:
        others = await session.scalars(
            select(MatchPlayer.user_id)
            .where(MatchPlayer.match_id == flag.match_id, MatchPlayer.user_id != flag.user_id)
            .order_by(MatchPlayer.user_id)
        )
        user_ids += list(others)
    names = await _nicknames(session, set(user_ids))
    return [
        {
            "user": {"id": user_id, "nickname": names.get(user_id)},
            "flagged": user_id == flag.user_id,
            "games": await _recent_games(session, user_id),
            "flags": await _recent_flags(session, user_id),
        }
        for user_id in user_ids
    ]


async def _recent_games(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(MatchRow)
        .join(MatchPlayer, MatchPlayer.match_id == MatchRow.id)
        .where(MatchPlayer.user_id == user_id)
        .order_by(MatchRow.created_at.desc(), MatchRow.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return [
        {
            "id": match.id, "mode": match.mode, "rated": match.rated, "state": match.state,
            "voided": match.rating_state == RATING_VOIDED, "created_at": match.created_at,
            "result": "none" if match.winner_id is None
            else "won" if match.winner_id == user_id else "lost",
        }
        for match in rows
    ]  # fmt: skip


async def _recent_flags(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Flag)
        .where(Flag.user_id == user_id)
        .order_by(Flag.created_at.desc(), Flag.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return [
        {"id": f.id, "level": f.level, "source": f.source, "status": f.status,
         "decision": f.decision, "created_at": f.created_at}
        for f in rows
    ]  # fmt: skip


async def _related(session: AsyncSession, flag: Flag) -> list[dict[str, Any]]:
    """The other flags of the same player in the same game (a risk flag and a report of
    one game are two flags: each page links the other)."""
    if flag.match_id is None and flag.room_id is None:
        return []
    game = Flag.match_id == flag.match_id if flag.match_id else Flag.room_id == flag.room_id
    rows = await session.scalars(
        select(Flag).where(game, Flag.user_id == flag.user_id, Flag.id != flag.id).order_by(Flag.id)
    )
    return [{"id": f.id, "level": f.level, "source": f.source} for f in rows]


def _signals(assessment: RiskAssessment | None) -> list[dict[str, Any]]:
    if assessment is None:
        return []
    return [s for s in (assessment.signals or []) if isinstance(s, dict) and "signal" in s]


def _extra(stored: dict[str, Any]) -> dict[str, Any]:
    """What to_dict recomputes is kept as stored (the weights may have changed since)."""
    return {k: stored[k] for k in ("weight", "contribution") if k in stored}


def _report_signal(report: PlayerReport) -> dict[str, Any]:
    evidence = {
        "reports": [
            {"id": report.id, "reporter_id": report.reporter_id, "reason": report.reason,
             "text": report.text, "created_at": report.created_at.isoformat()}
        ]
    }  # fmt: skip
    signal = risk.Signal(risk.REPORTS, strength=1.0, evidence=evidence, params={"count": 1})
    return signal.to_dict()


def _moment(at: Any, start: float | None) -> dict[str, Any]:
    """A telemetry time (server milliseconds since the epoch) as a moment and, when the
    game's start is known, as minutes:seconds into the game."""
    ms = _number(at)
    if ms is None:
        return {"moment": None, "clock": None}
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    if start is None:
        return {"moment": moment, "clock": None}
    offset = ms / 1000 - start
    sign = "-" if offset < 0 else ""
    whole = round(abs(offset))
    return {"moment": moment, "clock": f"{sign}{whole // 60}:{whole % 60:02d}"}


async def _own_submission(
    session: AsyncSession, flag: Flag, assessment: RiskAssessment | None
) -> Submission | None:
    """The flagged submission: the flag's or the assessment's, else the player's last
    accepted submit in the game (a game-wide assessment names none)."""
    for submission_id in (flag.submission_id, assessment.submission_id if assessment else None):
        if submission_id is not None:
            found = await session.get(Submission, submission_id)
            if found is not None:
                return found
    place = (
        Submission.match_id == flag.match_id if flag.match_id is not None
        else Submission.room_id == flag.room_id if flag.room_id is not None
        else None
    )  # fmt: skip
    if place is None:
        return None
    return await session.scalar(
        select(Submission)
        .where(place, Submission.user_id == flag.user_id, Submission.kind == SUBMIT)
        .order_by((Submission.verdict == "AC").desc(), Submission.id.desc())
        .limit(1)
    )


def _user_ids(signals: Iterable[dict[str, Any]]) -> set[int]:
    ids: set[int] = set()
    for signal in signals:
        evidence = signal.get("evidence")
        if not isinstance(evidence, dict):
            continue
        for m in evidence.get("matches") or []:
            if not isinstance(m, dict):
                continue
            if isinstance(m.get("other_user_id"), int):
                ids.add(m["other_user_id"])
        for r in evidence.get("reports") or []:
            if isinstance(r, dict) and isinstance(r.get("reporter_id"), int):
                ids.add(r["reporter_id"])
    return ids


async def _nicknames(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.nickname).where(User.id.in_(ids)))
    return {user_id: nickname for user_id, nickname in rows.all()}


async def _readable(
    session: AsyncSession,
    blobs: BlobStore,
    signal: dict[str, Any],
    own: Submission | None,
    names: dict[int, str],
    start: float | None,
) -> dict[str, Any]:
    evidence = signal.get("evidence") or {}
    view: dict[str, Any] = {}
    name = signal["signal"]
    if name == risk.SIMILARITY:
        view["matches"] = [
            await _side_by_side(session, blobs, m, own, names)
            for m in evidence.get("matches") or []
            if isinstance(m, dict)
        ]
    elif name == risk.PASTE:
        pastes = sorted(
            (p for p in evidence.get("pastes") or [] if isinstance(p, dict)),
            key=lambda p: _number(p.get("at")) or 0,
        )
        view["pastes"] = [p | _moment(p.get("at"), start) for p in pastes]
        view["share"] = _share(evidence.get("external_chars"), evidence.get("code_chars"))
    elif name == risk.BURST:
        written = (_number(evidence.get("typed_chars")) or 0) + (
            _number(evidence.get("internal_paste_chars")) or 0
        )  # pasted from inside the page was typed there first
        view["share"] = _share(written, evidence.get("code_chars"))
    elif name == risk.SOLVE_TIME:
        seconds, median = _number(evidence.get("seconds")), _number(evidence.get("median"))
        view["ratio"] = round(seconds / median, 2) if seconds is not None and median else None
    elif name == risk.AI_TEXT:
        probabilities = evidence.get("class_probabilities") or {}
        view["classes"] = sorted(
            ((k, v) for k, v in probabilities.items() if _number(v) is not None),
            key=lambda kv: -float(kv[1]),
        )
    elif name == risk.REPORTS:
        view["reports"] = [
            r | {"reporter": names.get(r.get("reporter_id") or 0)}
            for r in evidence.get("reports") or []
            if isinstance(r, dict)
        ]
    return signal | {"view": view}


async def _side_by_side(
    session: AsyncSession,
    blobs: BlobStore,
    found: dict[str, Any],
    own: Submission | None,
    names: dict[int, str],
) -> dict[str, Any]:
    """One similarity match as two columns of numbered lines, the matched ones marked."""
    fragments = found.get("fragments") or {}
    mine = own
    if isinstance(found.get("submission_id"), int):
        mine = await session.get(Submission, found["submission_id"]) or own
    own_code = await submissions.code_of(blobs, mine) if mine is not None else None
    other_code: str | None = None
    other_language = found.get("other_language") or ""
    other_id = found.get("other_submission_id")
    if found.get("other_kind") == "reference":
        version_id = mine.problem_version_id if mine is not None else None
        version = await session.get(ProblemVersion, version_id) if version_id else None
        other_code = (version.solutions or {}).get(other_language) if version else None
    elif isinstance(other_id, int):
        other = await session.get(Submission, other_id)
        if other is not None:
            other_code = await submissions.code_of(blobs, other)
            other_language = other_language or other.language
    other_user = found.get("other_user_id")
    return {
        "other_kind": found.get("other_kind"),
        "other_submission_id": other_id,
        "other_user": {"id": other_user, "nickname": names.get(other_user)}
        if isinstance(other_user, int)
        else None,
        "score": _number(found.get("score")),
        "shared": found.get("shared"),
        "same_game": bool(found.get("same_game")),
        "submission": {
            "id": mine.id if mine is not None else None,
            "language": mine.language if mine is not None else "",
            **_column(own_code, fragments.get("submission")),
        },
        "other": {"language": other_language, **_column(other_code, fragments.get("other"))},
    }


def _column(code: str | None, ranges: Any) -> dict[str, Any]:
    """Numbered lines with the matched ones marked, and the ranges as stored."""
    spans = _ranges(ranges)
    if code is None:
        return {"available": False, "lines": [], "ranges": spans, "truncated": False}
    text = code.splitlines()
    lines = [
        {"number": n, "text": line, "hit": any(a <= n <= b for a, b in spans)}
        for n, line in enumerate(text[:MAX_LINES], start=1)
    ]
    return {"available": True, "lines": lines, "ranges": spans, "truncated": len(text) > MAX_LINES}


def _ranges(value: Any) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for item in value or []:
        if (
            isinstance(item, Sequence) and len(item) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in item)
        ):  # fmt: skip
            a, b = item
            spans.append((min(a, b), max(a, b)))
    return sorted(spans)


def ranges_text(spans: Sequence[Sequence[int]]) -> str:
    """ "3–10, 15" for the ranges (3, 10) and (15, 15)."""
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in spans)


def _share(part: Any, whole: Any) -> int | None:
    """`part` as a whole percentage of `whole`, None when either is not a number."""
    p, w = _number(part), _number(whole)
    if p is None or not w:
        return None
    return round(100 * p / w)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
