"""Assessing games for fair play, off the judge's path: each accepted game submission gets
one explainable risk assessment (its signals measured from what was stored), each human
player of a finished rated match one for the game (their worst submission and the reports
against them), and the match's rating change is then applied or, on a high flag, held.

Everything here is idempotent and derived from the database, so the recorder can start it
at once and a periodic pass (runtime) finishes whatever a dead process left: an assessment
is stored once per key (a concurrent one loses on the unique key and is read back), and a
match is settled once under its lock (battles.service.settle_rating).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.battles import service as battles
from codebattle.battles.models import ChatMessage, MatchEvent, MatchRow
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.fairplay import signals, telemetry
from codebattle.fairplay.models import (
    AITextResult,
    Flag,
    PlayerReport,
    RiskAssessment,
)
from codebattle.fairplay.risk import (
    AI_TEXT,
    HIGH,
    NONE,
    REVIEW,
    UNAVAILABLE,
    Assessment,
    Signal,
    Thresholds,
    assess,
)
from codebattle.fairplay.service import examine
from codebattle.integrations import gptzero
from codebattle.progress.seasons import SeasonRules
from codebattle.rooms.models import Room
from codebattle.storage import BlobStore
from codebattle.submissions import service as submissions
from codebattle.submissions.models import SUBMIT, Submission

log = structlog.get_logger(__name__)

TELEMETRY_SLACK = timedelta(seconds=5)  # a batch flushed as the player submitted
SOLVE_SAMPLES = 500  # recent solves of a problem that make its distribution
PENDING_BATCH = 20
PENDING_DAYS = 2  # accepted submissions older than this are not assessed any more
EARLIER_WAIT = timedelta(minutes=10)  # an earlier submission unjudged longer is not waited for
CONFLICT_TRIES = 3  # an assessment racing another process's: measured again, or read back


def thresholds_of(settings: Settings) -> Thresholds:
    return Thresholds(settings.FAIRPLAY_REVIEW_SCORE, settings.FAIRPLAY_HIGH_SCORE)


def submission_key(submission_id: int) -> str:
    return f"submission:{submission_id}"


def game_key(match_id: int, user_id: int) -> str:
    return f"match:{match_id}:{user_id}"


@dataclass(frozen=True)
class Context:
    """What an assessment needs besides a session."""

    db: Database
    blobs: BlobStore
    settings: Settings


# ---- One submission.


async def assess_submission(ctx: Context, submission_id: int) -> RiskAssessment | None:
    """The stored assessment of an accepted game submission, made on first call; None for
    anything else (practice, not accepted, unknown). Flags a room submission at "review" or
    above (a match's flags are per player and game: `settle_match`)."""
    key = submission_key(submission_id)
    async with ctx.db.reading() as session:
        found = await _stored(session, key)
        submission = await session.get(Submission, submission_id)
        if found is not None or submission is None or not _examinable(submission):
            return found
        if await _earlier_being_judged(session, submission):
            return None  # what it may copy is not judged yet: a later pass assesses it
        code = await submissions.code_of(ctx.blobs, submission)
    # GPTZero is asked outside any transaction: a slow answer holds no lock.
    ai = await _ai_text(ctx, code or "", submission.language)
    for attempt in range(CONFLICT_TRIES):
        try:
            row, result = await _measure_and_store(ctx, submission, key, code or "", ai)
        except IntegrityError:
            # Another process stored the same fingerprint, match or assessment first.
            async with ctx.db.reading() as session:
                found = await _stored(session, key)
            if found is not None or attempt == CONFLICT_TRIES - 1:
                return found
            continue
        log.info("fair play: submission assessed", submission=submission_id,
                 score=result.score, level=result.level)  # fmt: skip
        return row
    return None


async def _measure_and_store(
    ctx: Context, submission: Submission, key: str, code: str, ai: Signal
) -> tuple[RiskAssessment, Assessment]:
    """Measure every signal of `submission` and store its assessment, in one transaction
    (IntegrityError if another process got there first)."""
    async with ctx.db.session() as session:
        matches = await examine(
            session, ctx.blobs, submission.id,
            review_score=ctx.settings.SIMILARITY_REVIEW_SCORE,
        )  # fmt: skip
        events = await _telemetry_of(session, submission)
        found_signals = [
            signals.similarity(await _alike(session, submission, matches)),
            signals.paste(events, code),
            signals.burst(events, code),
            signals.solve_time(
                await _solve_seconds(session, submission),
                await _other_solves(session, submission),
            ),
            ai,
        ]
        result = assess(found_signals, thresholds_of(ctx.settings))
        row = _assessment(key, "submission", submission.user_id, result)
        row.submission_id, row.match_id, row.room_id = (
            submission.id, submission.match_id, submission.room_id,
        )  # fmt: skip
        session.add(row)
        if submission.room_id is not None and result.level != NONE:
            await session.flush()
            session.add(_flag(row, result, submission_id=submission.id))
        await session.commit()
    return row, result


async def _earlier_being_judged(session: AsyncSession, submission: Submission) -> bool:
    """Whether another player's submission made earlier in the same game (in the last
    EARLIER_WAIT: one stuck longer is not waited for) has no verdict yet: a copy is
    compared with what it copies only once that is accepted, and the earlier one never with
    the later (service._candidates)."""
    game = (
        Submission.match_id == submission.match_id
        if submission.match_id is not None
        else Submission.room_id == submission.room_id
    )
    return await _being_judged(
        session, game, Submission.id < submission.id, Submission.user_id != submission.user_id
    )


def _examinable(submission: Submission) -> bool:
    in_game = submission.match_id is not None or submission.room_id is not None
    return submission.kind == SUBMIT and submission.verdict == "AC" and in_game


async def _stored(session: AsyncSession, key: str) -> RiskAssessment | None:
    return await session.scalar(select(RiskAssessment).where(RiskAssessment.key == key))


async def _alike(
    session: AsyncSession, submission: Submission, matches: list[Any]
) -> list[signals.Alike]:
    others = {m.other_submission_id for m in matches if m.other_submission_id is not None}
    rows = {
        s.id: s for s in await session.scalars(select(Submission).where(Submission.id.in_(others)))
    }
    out = []
    for m in matches:
        other = rows.get(m.other_submission_id) if m.other_submission_id else None
        same_game = other is not None and (
            (submission.match_id is not None and other.match_id == submission.match_id)
            or (submission.room_id is not None and other.room_id == submission.room_id)
        )
        out.append(
            signals.Alike(
                m.other_kind,
                m.other_submission_id,
                other.user_id if other is not None else None,
                m.other_language,
                m.score,
                m.shared,
                m.fragments,
                same_game,
            )  # fmt: skip
        )
    return out


async def _telemetry_of(
    session: AsyncSession, submission: Submission
) -> list[dict[str, Any]] | None:
    """The player's editor events in this game up to the submission; None when the editor
    sent none at all (an API client, or a page without the collector)."""
    events = await telemetry.events_of(
        session, submission.user_id, match_id=submission.match_id, room_id=submission.room_id,
        problem_id=submission.problem_id, until=submission.created_at + TELEMETRY_SLACK,
    )  # fmt: skip
    return events or None


async def _solve_seconds(session: AsyncSession, submission: Submission) -> float | None:
    started = await game_start(session, submission.match_id, submission.room_id)
    if started is None:
        return None
    return max(0.0, submission.created_at.timestamp() - started)


async def game_start(
    session: AsyncSession, match_id: int | None, room_id: int | None
) -> float | None:
    """When a game's play began (seconds since the epoch): a match's start by its state
    machine (the time its `started` event carries), a room's start; None if neither."""
    if match_id is not None:
        row = await session.get(MatchRow, match_id)
        return battles.load(row.fsm).starts_at if row is not None else None
    if room_id is not None:
        return await session.scalar(select(Room.starts_at).where(Room.id == room_id))
    return None


async def _other_solves(session: AsyncSession, submission: Submission) -> list[float]:
    """Seconds from the start to the accepted submission of other players' recent games on
    this problem (matches and rooms)."""
    base = (
        Submission.problem_id == submission.problem_id,
        Submission.user_id != submission.user_id,
        Submission.kind == SUBMIT,
        Submission.verdict == "AC",
    )
    in_matches = await session.execute(
        select(Submission.created_at, MatchEvent.at)
        .join(MatchEvent, MatchEvent.match_id == Submission.match_id)
        .where(*base, MatchEvent.type == "started")
        .order_by(Submission.id.desc())
        .limit(SOLVE_SAMPLES)
    )
    in_rooms = await session.execute(
        select(Submission.created_at, Room.starts_at)
        .join(Room, Room.id == Submission.room_id)
        .where(*base, Room.starts_at.is_not(None))
        .order_by(Submission.id.desc())
        .limit(SOLVE_SAMPLES)
    )
    return [
        max(0.0, made.timestamp() - started)
        for made, started in [*in_matches.all(), *in_rooms.all()]
        if started is not None
    ]


# ---- AI text, through GPTZero, cached by content in the database.

_clients: dict[tuple[str, str], gptzero.GPTZeroClient] = {}


def _client(settings: Settings) -> gptzero.GPTZeroClient | None:
    """One GPTZero client per process and configuration (it holds the connection pool,
    the in-process cache and the circuit breaker)."""
    if settings.GPTZERO_API_KEY is None:
        return None
    key = (settings.GPTZERO_API_URL, settings.GPTZERO_API_KEY.get_secret_value())
    if key not in _clients:
        client = gptzero.client_from_settings(settings)
        if client is None:
            return None
        _clients[key] = client
    return _clients[key]


async def _ai_text(ctx: Context, code: str, language: str) -> Signal:
    """GPTZero on a submission's comments and docstrings (when there are enough)."""
    settings = ctx.settings
    document = gptzero.detection_document(code, language, settings.GPTZERO_MIN_CHARS)
    return signals.ai_text(await _predict(ctx, document), len(document or ""))


async def _predict(ctx: Context, document: str | None) -> gptzero.AITextSignal:
    """GPTZero's view of `document` (None: too short), from the database's cache when any
    process asked about the same text before; unavailable without a key."""
    client = _client(ctx.settings)
    if client is None:
        return gptzero.AITextSignal("unavailable")
    if document is None:
        return gptzero.AITextSignal("not_enough_text")
    digest = hashlib.sha256(document.encode()).hexdigest()
    async with ctx.db.reading() as session:
        cached = await session.get(AITextResult, digest)
    if cached is not None:
        return _from_cache(cached.result)
    try:
        result = await client.predict(document)
    except gptzero.GPTZeroError as exc:
        log.warning("gptzero_failed", code=exc.code)
        return gptzero.AITextSignal("error", error=exc.code)
    try:
        async with ctx.db.session() as session:
            session.add(AITextResult(content_hash=digest, result=_to_cache(result)))
            await session.commit()
    except IntegrityError:
        pass  # another process cached the same text
    return gptzero.AITextSignal("ok", result=result)


async def chat_document(session: AsyncSession, match_id: int, user_id: int) -> str:
    """What a player wrote in a match's chat, one message a line (deleted ones too: a
    reviewer looks at what was said)."""
    lines = await session.scalars(
        select(ChatMessage.text)
        .where(ChatMessage.match_id == match_id, ChatMessage.user_id == user_id)
        .order_by(ChatMessage.id)
    )
    return "\n".join(lines)


async def chat_ai_text(ctx: Context, match_id: int, user_id: int, *, ask: bool = False) -> Signal:
    """GPTZero on what a player wrote in a match's chat, when an operator asks (`ask`);
    otherwise only what is cached (never a call: a page that shows it costs nothing).
    Text under GPTZERO_MIN_CHARS is not sent."""
    async with ctx.db.reading() as session:
        text = (await chat_document(session, match_id, user_id))[: gptzero.MAX_DOCUMENT_CHARS]
        document = text if len(text) >= ctx.settings.GPTZERO_MIN_CHARS else None
        if not ask and document is not None and _client(ctx.settings) is not None:
            digest = hashlib.sha256(document.encode()).hexdigest()
            cached = await session.get(AITextResult, digest)
            if cached is None:
                return Signal(AI_TEXT, UNAVAILABLE, 0.0, {"status": "not_asked",
                              "chars": len(text)})  # fmt: skip
            return signals.ai_text(_from_cache(cached.result), len(text))
    return signals.ai_text(await _predict(ctx, document), len(text))


def _to_cache(result: gptzero.GPTZeroResult) -> dict[str, Any]:
    return {
        "completely_generated_prob": result.completely_generated_prob,
        "class_probabilities": dict(result.class_probabilities),
        "predicted_class": result.predicted_class,
        "model_version": result.model_version,
    }


def _from_cache(data: dict[str, Any]) -> gptzero.AITextSignal:
    result = gptzero.GPTZeroResult(
        float(data["completely_generated_prob"]), dict(data.get("class_probabilities") or {}),
        data.get("predicted_class"), data.get("model_version"),
    )  # fmt: skip
    return gptzero.AITextSignal("ok", result=result)


# ---- One finished rated match.


async def settle_match(ctx: Context, match_id: int) -> list[MatchEvent]:
    """Assess a finished rated match (each human player: their worst accepted submission
    and the reports against them), flag what reaches "review", then rate it or hold its
    rating (a "high" player). The log entries appended ([] if it was settled already)."""
    async with ctx.db.reading() as session:
        row = await session.get(MatchRow, match_id)
        if row is None or row.rating_state != battles.RATING_PENDING:
            return []
        humans = [p["user_id"] for p in row.fsm["players"] if not p.get("ai")]
        accepted = list(
            await session.scalars(
                select(Submission.id).where(
                    Submission.match_id == match_id,
                    Submission.kind == SUBMIT,
                    Submission.verdict == "AC",
                )  # fmt: skip
            )
        )
        if await _being_judged(session, Submission.match_id == match_id):
            return []  # one made before the end may be a copy: settled once it is judged
    for submission_id in accepted:
        if await assess_submission(ctx, submission_id) is None:
            return []  # it waits for an earlier submission's verdict: settled at a later pass
    hold = False
    for user_id in humans:
        game = await assess_player_in_match(ctx, match_id, user_id)
        hold = hold or game.level == HIGH
    async with ctx.db.session() as session:
        return await battles.settle_rating(
            session, match_id, hold=hold, rules=SeasonRules.of(ctx.settings)
        )


async def _being_judged(session: AsyncSession, *where: Any) -> bool:
    """Whether a `submit` matching `where`, made in the last EARLIER_WAIT (one stuck longer
    is not waited for), has no verdict yet."""
    found = await session.scalar(
        select(Submission.id)
        .where(
            *where,
            Submission.kind == SUBMIT,
            Submission.verdict.is_(None),
            Submission.created_at >= datetime.now(UTC) - EARLIER_WAIT,
        )  # fmt: skip
        .limit(1)
    )
    return found is not None


async def settle_unassessed(ctx: Context, match_id: int) -> list[MatchEvent]:
    """Settle a match whose assessment keeps failing: held if any assessment stored for it
    is high, rated otherwise; either way each human player without a game assessment gets
    a "review" flag saying the assessment failed, so a person looks at the game."""
    async with ctx.db.session() as session:
        row = await session.get(MatchRow, match_id)
        if row is None or row.rating_state != battles.RATING_PENDING:
            return []
        stored = list(
            await session.scalars(select(RiskAssessment).where(RiskAssessment.match_id == match_id))
        )
        hold = any(a.level == HIGH for a in stored)
        assessed = {a.user_id for a in stored if a.scope == "game"}
        for player in row.fsm["players"]:
            user_id = player["user_id"]
            if player.get("ai") or user_id in assessed:
                continue
            key = f"failed:{game_key(match_id, user_id)}"
            if await session.scalar(select(Flag.id).where(Flag.key == key)) is None:
                session.add(
                    Flag(
                        key=key,
                        source="risk",
                        level=REVIEW,
                        score=0.0,
                        user_id=user_id,
                        match_id=match_id,
                        reasons=[{"signal": "assessment_failed", "contribution": 0, "params": {}}],
                    )  # fmt: skip
                )
        await session.commit()
    async with ctx.db.session() as session:
        return await battles.settle_rating(
            session, match_id, hold=hold, rules=SeasonRules.of(ctx.settings)
        )


async def assess_player_in_match(ctx: Context, match_id: int, user_id: int) -> RiskAssessment:
    """One player's assessment for one match (stored once), flagged at "review" or above:
    the signals of their worst accepted submission in it, and the reports against them."""
    key = game_key(match_id, user_id)
    async with ctx.db.session() as session:
        found = await _stored(session, key)
        if found is not None:
            return found
        worst = await session.scalar(
            select(RiskAssessment)
            .join(Submission, Submission.id == RiskAssessment.submission_id)
            .where(Submission.match_id == match_id, Submission.user_id == user_id)
            .order_by(RiskAssessment.score.desc(), RiskAssessment.id)
            .limit(1)
        )
        reported = await session.scalars(
            select(PlayerReport).where(
                PlayerReport.match_id == match_id, PlayerReport.reported_id == user_id
            )
        )
        found_signals = [Signal.from_dict(s) for s in worst.signals] if worst else []
        found_signals.append(
            signals.reports(
                [
                    {"id": r.id, "reporter_id": r.reporter_id, "reason": r.reason, "text": r.text}
                    for r in reported
                ]  # fmt: skip
            )
        )
        result = assess(found_signals, thresholds_of(ctx.settings))
        row = _assessment(key, "game", user_id, result)
        row.match_id = match_id
        row.submission_id = worst.submission_id if worst else None
        session.add(row)
        try:
            if result.level != NONE:
                await session.flush()
                session.add(_flag(row, result, submission_id=row.submission_id))
            await session.commit()
        except IntegrityError:
            await session.rollback()
            stored = await _stored(session, key)
            assert stored is not None
            return stored
    if result.level != NONE:
        log.warning("fair play: a game flagged", match=match_id, user=user_id,
                    level=result.level, score=result.score)  # fmt: skip
    return row


def _assessment(key: str, scope: str, user_id: int, result: Assessment) -> RiskAssessment:
    return RiskAssessment(
        key=key, scope=scope, user_id=user_id, score=result.score, level=result.level,
        signals=[s.to_dict() for s in result.signals],
    )  # fmt: skip


def _flag(row: RiskAssessment, result: Assessment, *, submission_id: int | None) -> Flag:
    return Flag(
        key=f"risk:{row.key}", source="risk", level=result.level, score=result.score,
        user_id=row.user_id, match_id=row.match_id, room_id=row.room_id,
        submission_id=submission_id, assessment_id=row.id, reasons=result.reasons(),
    )  # fmt: skip


# ---- What is due.


async def pending_submissions(
    db: Database, now: datetime, limit: int = PENDING_BATCH, exclude: Collection[int] = ()
) -> list[int]:
    """Accepted game submissions of the last PENDING_DAYS not assessed yet (but those in
    `exclude`)."""
    async with db.reading() as session:
        return list(
            await session.scalars(
                select(Submission.id)
                .outerjoin(
                    RiskAssessment,
                    (RiskAssessment.submission_id == Submission.id)
                    & (RiskAssessment.scope == "submission"),
                )
                .where(
                    Submission.kind == SUBMIT,
                    Submission.verdict == "AC",
                    (Submission.match_id.is_not(None)) | (Submission.room_id.is_not(None)),
                    Submission.created_at >= now - timedelta(days=PENDING_DAYS),
                    RiskAssessment.id.is_(None),
                    Submission.id.not_in(list(exclude)),
                )  # fmt: skip
                .order_by(Submission.id)
                .limit(limit)
            )
        )


async def pending_matches(db: Database) -> list[int]:
    async with db.reading() as session:
        return await battles.pending_ratings(session)
