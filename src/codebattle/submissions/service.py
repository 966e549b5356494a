"""Submissions: the rules for accepting code and queueing it, what players see of a
submission, and what the other capabilities read of them (matches read their submissions
here, never from the tables). Recording the judge's results: `recording.py`; the one way in:
`submit.py`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.errors import UserError
from codebattle.judge import disclosure, jobs, languages
from codebattle.judge.jobs import Job
from codebattle.judge.verdicts import Verdict
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.problems.templates import offered
from codebattle.storage import BlobStore, content_key
from codebattle.submissions.models import (
    CUSTOM,
    QUEUED,
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


def check_language(language: object, accepted: list[str] | None = None) -> str:
    """A language id the judge knows and, given the problem's `accepted` ids (problem.yaml
    `languages`; None: every one), one the problem accepts."""
    if not isinstance(language, str) or language not in languages.LANGUAGES:
        raise UserError(
            422, "language_unknown", language=str(language)[:20], known=_offered_titles(accepted)
        )
    if accepted is not None and language not in accepted:
        raise UserError(
            422,
            "language_not_allowed",
            language=languages.LANGUAGES[language].title,
            allowed=_offered_titles(accepted),
        )
    return language


def _offered_titles(accepted: list[str] | None) -> str:
    """What the problem's menu offers, by the names people know (both refusals list it)."""
    return ", ".join(languages.LANGUAGES[name].title for name in offered(accepted))


@dataclass(frozen=True)
class Target:
    """What a new submission needs of its problem: the current version's few columns (not
    its statements and samples)."""

    problem_id: int
    version_id: int
    package_key: str
    time_limit: float
    test_count: int


async def target_of(session: AsyncSession, slug: object) -> Target:
    row = None
    if isinstance(slug, str) and len(slug) <= 64:
        row = (
            await session.execute(
                select(
                    Problem.id,
                    ProblemVersion.id,
                    ProblemVersion.package_key,
                    ProblemVersion.time_limit,
                    ProblemVersion.test_count,
                )
                .join(ProblemVersion, ProblemVersion.id == Problem.current_version_id)
                .where(Problem.slug == slug)
            )
        ).first()
    if row is None:
        raise UserError(404, "problem_unknown")
    return Target(*row)


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
    target: Target | None = None,
    match_id: int | None = None,
    room_id: int | None = None,
) -> tuple[Submission, Job]:
    """Validate and add a submission to the session (flushed: it has its id; the caller
    commits, with its outbox entry); return it with its job. A submission in a match or
    room gives its `target` (the problem version played there) and the id."""
    if kind not in KINDS:
        raise UserError(422, "kind_unknown")
    checked_code = check_code(code, max_code_bytes)
    if target is None:
        target = await target_of(session, problem_slug)
    # Whichever way the target came (practice, match, room, the AI), the version says which
    # languages it accepts: refused here, not as a compile error after judging.
    accepted = await session.scalar(
        select(ProblemVersion.languages).where(ProblemVersion.id == target.version_id)
    )
    checked_language = check_language(language, accepted)
    stdin = ""
    if kind == CUSTOM:
        if not isinstance(custom_input, str):
            raise UserError(422, "input_missing")
        if len(custom_input.encode()) > MAX_INPUT_BYTES:
            raise UserError(413, "input_too_large", limit=MAX_INPUT_BYTES // 1024)
        if "\x00" in custom_input:
            raise UserError(422, "code_binary")
        stdin = custom_input
    data = checked_code.encode()
    key = content_key("code", data)
    await blobs.aput(key, data)
    submission = Submission(
        user_id=user.id,
        problem_id=target.problem_id,
        problem_version_id=target.version_id,
        kind=kind,
        match_id=match_id if kind == SUBMIT else None,
        room_id=room_id if kind == SUBMIT else None,
        priority=priority_of(kind, match_id, room_id),
        language=checked_language,
        code_key=key,
        code_size=len(data),
        custom_input=stdin if kind == CUSTOM else None,
        status=QUEUED,
        # The samples' count comes with the result; the full set's is known now.
        tests_total=target.test_count if kind == SUBMIT else 0,
    )
    session.add(submission)
    await session.flush()
    return submission, job_for(submission, target.package_key, target.time_limit, checked_code)


def job_for(submission: Submission, package_key: str, time_limit: float, code: str) -> Job:
    if submission.kind == CUSTOM:
        time_limit = min(max(time_limit, 1.0), CUSTOM_TIME_LIMIT_CAP)
    return {
        "submission": submission.id,
        "kind": submission.kind,
        "language": submission.language,
        "code": code,
        "package_key": package_key,
        "time_limit": time_limit,
        "stdin": submission.custom_input or "",
        # In a match every test runs: at the time limit, the most tests passed wins. A room
        # counts only the verdict (solved, or a rejection), practice too: they stop at the
        # first failure.
        "run_all": submission.match_id is not None,
        # As stored when it was made: the outbox's resend gives the level the first send gave.
        "priority": submission.priority,
    }


def priority_of(kind: str, match_id: int | None, room_id: int | None) -> int:
    """A new submission's job level (judge/jobs.py) from what it is and where it was made:
    a duel's submissions and runs go first (a race), then a practice player waiting for a
    sample or custom run, then a room's submissions and runs (a backlog of many), then
    practice submissions."""
    if match_id is not None:
        return jobs.MATCH
    if room_id is not None:
        return jobs.ROOM
    return jobs.PRACTICE if kind == SUBMIT else jobs.RUN


def made_at(submission: Submission) -> float:
    """When a submission was made (it counts by this time in matches and rooms)."""
    return submission.created_at.timestamp()


async def tests_of(session: AsyncSession, submission_id: int) -> list[SubmissionTest]:
    return list(
        await session.scalars(
            select(SubmissionTest)
            .where(SubmissionTest.submission_id == submission_id)
            .order_by(SubmissionTest.index)
            .execution_options(populate_existing=True)
        )
    )


TEST_FIELDS = ("index", "name", "verdict", "time", "wall_time", "memory", "sample", "feedback")


def test_json(test: SubmissionTest) -> dict[str, Any]:
    return shown_test({field: getattr(test, field) for field in TEST_FIELDS})


def shown_test(values: dict[str, Any]) -> dict[str, Any]:
    """A test as players see it (API, sockets, pages): every field of a sample; of a secret
    test only the verdict, time and memory (judge/disclosure.py), whatever was stored."""
    test = {field: values[field] for field in TEST_FIELDS if field in values}
    if test.get("sample") is True:
        return test
    return {"index": test["index"], **disclosure.for_player(test, test["index"])}


def summary_json(submission: Submission, problem_slug: str | None) -> dict[str, Any]:
    """A submission without its tests (lists)."""
    return {
        "id": submission.id,
        "problem": problem_slug,
        "kind": submission.kind,
        "match": submission.match_id,
        "room": submission.room_id,
        "language": submission.language,
        "status": submission.status,
        "verdict": submission.verdict,
        "tests_total": submission.tests_total,
        "tests_passed": submission.tests_passed,
        "compile_output": submission.compile_output,
        "run_output": submission.run_output if submission.kind == CUSTOM else None,
        "message": submission.message,
        "max_time": submission.max_time,
        "max_memory": submission.max_memory,
        "judge_time": submission.judge_time,
        "created_at": submission.created_at.isoformat(),
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
    }


async def to_json(session: AsyncSession, submission: Submission) -> dict[str, Any]:
    """A submission with its tests (the API's and the socket's shape)."""
    tests = await tests_of(session, submission.id)
    slug = await session.scalar(select(Problem.slug).where(Problem.id == submission.problem_id))
    return {**summary_json(submission, slug), "tests": [test_json(t) for t in tests]}


async def history_json(
    session: AsyncSession, user: User, problem: Problem | None = None
) -> list[dict[str, Any]]:
    """A user's submissions, newest first, in two queries whatever their number."""
    rows = await history(session, user, problem)
    ids = {s.problem_id for s in rows}
    slugs = dict(
        (await session.execute(select(Problem.id, Problem.slug).where(Problem.id.in_(ids)))).all()
    )
    return [summary_json(s, slugs.get(s.problem_id)) for s in rows]


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


async def solved_ids(session: AsyncSession, user: User | None) -> set[int]:
    """The problems this user has an accepted submission (not a custom run) for."""
    if user is None:
        return set()
    rows = await session.scalars(
        select(Submission.problem_id)
        .where(
            Submission.user_id == user.id,
            Submission.kind == SUBMIT,
            Submission.verdict == Verdict.AC,
        )
        .distinct()
    )
    return set(rows)


async def code_of(blobs: BlobStore, submission: Submission) -> str | None:
    """A submission's code; None if it was lost from blob storage (pages say so rather
    than fail)."""
    try:
        return (await blobs.aget(submission.code_key)).decode()
    except KeyError:
        return None


# What matches read of their submissions (battles never query these tables themselves).


async def count_in_match(session: AsyncSession, match_id: int, user_id: int) -> int:
    """How many submissions a player made in a match."""
    found = await session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.match_id == match_id, Submission.user_id == user_id)
    )
    return int(found or 0)


async def of_match(session: AsyncSession, match_id: int) -> list[Submission]:
    """Every submission made in a match, in the order they were made."""
    return list(
        await session.scalars(
            select(Submission).where(Submission.match_id == match_id).order_by(Submission.id)
        )
    )


async def code_sizes_in_match(
    session: AsyncSession, match_id: int, *, after: int, hidden: list[int], limit: int
) -> list[tuple[int, int]]:
    """(id, bytes of code) of a match's submissions after id `after`, in order, none by
    the `hidden` users; at most `limit`."""
    rows = await session.execute(
        select(Submission.id, Submission.code_size)
        .where(
            Submission.match_id == match_id,
            Submission.id > after,
            Submission.user_id.not_in(hidden),
        )
        .order_by(Submission.id)
        .limit(limit)
    )
    return [(row_id, size) for row_id, size in rows.all()]


async def with_code(
    session: AsyncSession, blobs: BlobStore, ids: list[int]
) -> list[tuple[Submission, str | None]]:
    """These submissions, in id order, each with its code (`code_of`)."""
    found = await session.scalars(
        select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id)
    )
    taken = list(found)
    # Read at once: from a bucket each is a round trip.
    codes = await asyncio.gather(*(code_of(blobs, s) for s in taken))
    return list(zip(taken, codes, strict=True))
