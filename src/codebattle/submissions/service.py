"""Submissions: the rules for accepting code, queueing it, and recording what the judge says.

Recording is idempotent, so a redelivered job (its worker died) or a repeated event changes
nothing twice: a test result is keyed by (submission, index) and the final verdict is only
written while the submission is not yet done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.errors import UserError
from codebattle.judge import languages
from codebattle.judge.jobs import Event, Job
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.storage import BlobStore, content_key
from codebattle.submissions.models import (
    CUSTOM,
    DONE,
    QUEUED,
    RUNNING,
    SAMPLES,
    SUBMIT,
    Submission,
    SubmissionTest,
)

KINDS = (SUBMIT, SAMPLES, CUSTOM)
MAX_INPUT_BYTES = 64 * 1024
CUSTOM_TIME_LIMIT_CAP = 5.0


def check_code(code: object, max_bytes: int) -> str:
    if not isinstance(code, str):
        raise UserError(422, "code_missing")
    size = len(code.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise UserError(413, "code_too_large", limit=max_bytes // 1024)
    if not code.strip():
        raise UserError(422, "code_empty")
    if "\x00" in code or any("\ud800" <= ch <= "\udfff" for ch in code):
        raise UserError(422, "code_binary")
    return code


def check_language(language: object) -> str:
    if not isinstance(language, str) or language not in languages.LANGUAGES:
        raise UserError(422, "language_unknown", language=str(language)[:20])
    return language


async def problem_by_slug(session: AsyncSession, slug: object) -> Problem:
    problem = None
    if isinstance(slug, str) and len(slug) <= 64:
        problem = await session.scalar(select(Problem).where(Problem.slug == slug))
    if problem is None or problem.current_version is None:
        raise UserError(404, "problem_unknown")
    return problem


async def create(
    session: AsyncSession,
    blobs: BlobStore,
    user: User,
    problem_slug: object,
    language: object,
    code: object,
    *,
    kind: str = SUBMIT,
    custom_input: object = None,
    max_code_bytes: int,
) -> tuple[Submission, Job]:
    """Validate and save a submission; return it with the job to enqueue."""
    if kind not in KINDS:
        raise UserError(422, "kind_unknown")
    checked_code = check_code(code, max_code_bytes)
    checked_language = check_language(language)
    problem = await problem_by_slug(session, problem_slug)
    stdin = ""
    if kind == CUSTOM:
        if not isinstance(custom_input, str):
            raise UserError(422, "input_missing")
        if len(custom_input.encode()) > MAX_INPUT_BYTES:
            raise UserError(413, "input_too_large", limit=MAX_INPUT_BYTES // 1024)
        if "\x00" in custom_input:
            raise UserError(422, "code_binary")
        stdin = custom_input
    version = problem.current_version
    assert version is not None
    data = checked_code.encode()
    key = content_key("code", data)
    blobs.put(key, data)
    submission = Submission(
        user_id=user.id,
        problem_id=problem.id,
        problem_version_id=version.id,
        kind=kind,
        language=checked_language,
        code_key=key,
        code_size=len(data),
        custom_input=stdin if kind == CUSTOM else None,
        status=QUEUED,
        tests_total=len(version.samples) if kind == SAMPLES else version.test_count,
    )
    session.add(submission)
    await session.commit()
    return submission, job_for(submission, version, checked_code)


def job_for(submission: Submission, version: ProblemVersion, code: str) -> Job:
    time_limit = version.time_limit
    if submission.kind == CUSTOM:
        time_limit = min(max(version.time_limit, 1.0), CUSTOM_TIME_LIMIT_CAP)
    return {
        "submission": submission.id,
        "kind": submission.kind,
        "language": submission.language,
        "code": code,
        "package_key": version.package_key,
        "time_limit": time_limit,
        "stdin": submission.custom_input or "",
        "run_all": False,
    }


async def unfinished_jobs(session: AsyncSession, blobs: BlobStore) -> list[Job]:
    """Jobs of submissions not yet done: re-queued when the in-process queue starts, so a
    restart loses nothing."""
    rows = await session.execute(
        select(Submission, ProblemVersion)
        .join(ProblemVersion, Submission.problem_version_id == ProblemVersion.id)
        .where(Submission.status != DONE)
        .order_by(Submission.id)
    )
    return [job_for(s, v, blobs.get(s.code_key).decode()) for s, v in rows.all()]


async def record(session: AsyncSession, event: Event) -> dict[str, Any] | None:
    """Apply one judge event. Returns the message to publish, or None if it changed nothing
    (a duplicate, or an event for a submission that is already done)."""
    submission_id = int(event["submission"])
    submission = await session.get(Submission, submission_id, with_for_update=True)
    if submission is None or submission.status == DONE:
        return None
    kind = event["type"]
    if kind == "started":
        if submission.status == QUEUED:
            submission.status = RUNNING
            await session.commit()
        return {"type": "status", "status": RUNNING}
    if kind == "test":
        index = int(event["index"])
        data = event["test"]
        existing = await session.scalar(
            select(SubmissionTest).where(
                SubmissionTest.submission_id == submission_id, SubmissionTest.index == index
            )
        )
        test = existing or SubmissionTest(submission_id=submission_id, index=index)
        test.name = str(data["name"])[:255]
        test.verdict = str(data["verdict"])
        test.time = float(data.get("time", 0.0))
        test.wall_time = float(data.get("wall_time", 0.0))
        test.memory = int(data.get("memory", 0))
        test.sample = bool(data.get("sample", False))
        test.feedback = str(data.get("feedback", ""))[:2048]
        if existing is None:
            session.add(test)
        submission.status = RUNNING
        await session.commit()
        return {"type": "test", "test": test_json(test)}
    if kind == "done":
        result = event["result"]
        tests = list(
            await session.scalars(
                select(SubmissionTest).where(SubmissionTest.submission_id == submission_id)
            )
        )
        # Only the first "done" wins: the UPDATE is conditional on the status.
        changed = await session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status != DONE)
            .values(
                status=DONE,
                verdict=str(result["verdict"])[:4],
                compile_output=str(result.get("compile_output", ""))[:16384],
                run_output=str(result.get("run_output", ""))[:16384],
                message=str(result.get("message", ""))[:1024],
                tests_total=int(result.get("tests_total") or submission.tests_total),
                tests_passed=sum(1 for t in tests if t.verdict == "AC"),
                max_time=float(result.get("time", max((t.time for t in tests), default=0.0))),
                max_memory=int(result.get("memory", max((t.memory for t in tests), default=0))),
                judge_time=float(result.get("judge_time", 0.0)),
                finished_at=datetime.now(UTC),
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            return None
        await session.refresh(submission)
        return {"type": "done", "submission": await to_json(session, submission)}
    return None


def test_json(test: SubmissionTest) -> dict[str, Any]:
    return {
        "index": test.index,
        "name": test.name,
        "verdict": test.verdict,
        "time": test.time,
        "wall_time": test.wall_time,
        "memory": test.memory,
        "sample": test.sample,
        "feedback": test.feedback,
    }


async def to_json(session: AsyncSession, submission: Submission) -> dict[str, Any]:
    tests = list(
        await session.scalars(
            select(SubmissionTest)
            .where(SubmissionTest.submission_id == submission.id)
            .order_by(SubmissionTest.index)
        )
    )
    problem = await session.get(Problem, submission.problem_id)
    return {
        "id": submission.id,
        "problem": problem.slug if problem else None,
        "kind": submission.kind,
        "language": submission.language,
        "status": submission.status,
        "verdict": submission.verdict,
        "tests": [test_json(t) for t in tests],
        "tests_total": submission.tests_total,
        "tests_passed": submission.tests_passed,
        "compile_output": submission.compile_output,
        "run_output": submission.run_output if submission.kind == CUSTOM else None,
        "message": submission.message,
        "max_time": submission.max_time,
        "max_memory": submission.max_memory,
        "created_at": submission.created_at.isoformat(),
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
    }


async def get_owned(session: AsyncSession, user: User, submission_id: int) -> Submission:
    """A user sees only their own submissions (others' code stays private)."""
    submission = await session.get(Submission, submission_id)
    if submission is None or submission.user_id != user.id:
        raise UserError(404, "submission_unknown")
    return submission


async def history(
    session: AsyncSession, user: User, problem: Problem | None = None, limit: int = 50
) -> list[Submission]:
    query = select(Submission).where(Submission.user_id == user.id)
    if problem is not None:
        query = query.where(Submission.problem_id == problem.id)
    return list(await session.scalars(query.order_by(Submission.id.desc()).limit(limit)))
