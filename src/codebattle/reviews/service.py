"""Who may have a review, asking for one, and making it in the background.

Rules (issue 13):
- only the submission's owner; a `submit` that is accepted (practice), or their final
  submit of a match or room game that is over (never during a game: a review of running
  code would be help);
- the plan: Pro always, Basic when BASIC_REVIEW_ENABLED, Free never (403, naming the plan);
- consent: the model sees code only with `users.review_consent` True. With a key and the
  answer not given yet (None), the page asks first (409 review_consent_needed); False, or
  no key, or MOCK_GPT5: the offline review, which sends nothing anywhere;
- one review per submission (unique submission_id): a second request returns the first.
  A failed one may be asked again; a pending one left by a stopped server is restarted
  when it is read STALE after its work started (QUEUED_STALE after it was asked for, if
  its work never started). A restart is a compare-and-set on (status, created_at): of two
  at once one wins and one task runs; `created_at` is the attempt's mark, and a task whose
  mark is no longer the row's (restarted meanwhile) stops before doing anything.

The work (lint and timings in the sandbox, then the model) runs as a background task
(`services.spawn`): a request never waits for it; the page polls the JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import plans
from codebattle.accounts.models import User
from codebattle.battles import fsm as match_fsm
from codebattle.battles.models import MatchRow
from codebattle.config import Settings
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.integrations.openai import OpenAIClient
from codebattle.judge import disclosure, languages
from codebattle.judge.engine import Judge
from codebattle.judge.runner import PackageCache
from codebattle.judge.sandbox import Sandbox
from codebattle.problems import service as problems
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.reviews import offline, online
from codebattle.reviews.lint import TOOLS, Lint, lint
from codebattle.reviews.models import CodeReview
from codebattle.rooms import fsm as room_fsm
from codebattle.rooms.models import Room
from codebattle.services import Services
from codebattle.storage import BlobStore
from codebattle.submissions import service as submissions
from codebattle.submissions.models import DONE, SUBMIT, Submission, SubmissionTest

log = structlog.get_logger(__name__)

PENDING, READY, FAILED = "pending", "ready", "failed"
# A pending review whose work started this long ago is taken for lost (its server stopped):
# the work is bounded (lint, six timed runs, one model call with its time-out).
STALE = timedelta(minutes=10)
# One whose work never started (waiting for an analysis slot): generous, so a review still
# queued under load is not restarted; only one lost with its server is.
QUEUED_STALE = timedelta(hours=1)
REFERENCE_CACHE = "reviews/reference"


def model_available(settings: Settings) -> bool:
    """Whether reviews may ask the model at all (a key, and MOCK_GPT5 off)."""
    return settings.OPENAI_API_KEY is not None and not settings.MOCK_GPT5


def plan_of(user: User) -> str:
    return plans.effective_plan(user, datetime.now(UTC))


def check_plan(settings: Settings, user: User) -> None:
    plan = plan_of(user)
    if not plans.review_allowed(settings, plan):
        key = "review_plan_basic_off" if plan == "basic" else "review_plan_free"
        raise UserError(403, key, plan=plan)


async def eligible(session: AsyncSession, user: User, submission_id: int) -> Submission:
    """The user's submission if a review of it may be asked for; else a UserError."""
    submission = await submissions.get_owned(session, user, submission_id)
    if submission.kind != SUBMIT:
        raise UserError(403, "review_not_submit")
    if submission.status != DONE:
        raise UserError(409, "review_still_judging")
    if submission.match_id is not None:
        state = await session.scalar(
            select(MatchRow.state).where(MatchRow.id == submission.match_id)
        )
        if state not in (match_fsm.State.finished, match_fsm.State.cancelled):
            raise UserError(403, "review_game_running")
        await _check_final(session, submission, Submission.match_id == submission.match_id)
    elif submission.room_id is not None:
        state = await session.scalar(select(Room.state).where(Room.id == submission.room_id))
        if state != room_fsm.State.ended:
            raise UserError(403, "review_game_running")
        await _check_final(
            session,
            submission,
            (Submission.room_id == submission.room_id)
            & (Submission.problem_id == submission.problem_id),
        )
    elif submission.verdict != "AC":
        raise UserError(403, "review_not_accepted")
    return submission


async def _check_final(session: AsyncSession, submission: Submission, where: Any) -> None:
    last = await session.scalar(
        select(Submission.id)
        .where(where, Submission.user_id == submission.user_id, Submission.kind == SUBMIT)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if last != submission.id:
        raise UserError(403, "review_not_final", final=last or 0)


async def final_in_match(session: AsyncSession, user: User, match_id: int) -> int:
    """The id of the user's final submit in a match (the arena's review link)."""
    last = await session.scalar(
        select(Submission.id)
        .where(
            Submission.match_id == match_id,
            Submission.user_id == user.id,
            Submission.kind == SUBMIT,
        )
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if last is None:
        raise UserError(404, "review_no_submission")
    return int(last)


async def problem_slug(session: AsyncSession, submission: Submission) -> str | None:
    return await session.scalar(select(Problem.slug).where(Problem.id == submission.problem_id))


async def find(session: AsyncSession, submission_id: int) -> CodeReview | None:
    return await session.scalar(
        select(CodeReview)
        .where(CodeReview.submission_id == submission_id)
        .execution_options(populate_existing=True)
    )


async def set_consent(services: Services, user_id: int, consent: bool) -> None:
    async with services.db.session() as session:
        await session.execute(update(User).where(User.id == user_id).values(review_consent=consent))
        await session.commit()


async def request_review(
    services: Services, user: User, submission_id: int, consent: bool | None = None
) -> CodeReview:
    """Ask for the review of a submission (idempotent). `consent`, when given, is saved
    first (the page's consent form). Starts the background work when a new review is made
    (or a failed or stale one is asked again)."""
    settings = services.settings
    check_plan(settings, user)
    if consent is not None and consent != user.review_consent:
        await set_consent(services, user.id, consent)
        user.review_consent = consent
    async with services.db.session() as session:
        await eligible(session, user, submission_id)
        review = await find(session, submission_id)
        if review is not None and not _restartable(review):
            return review
        if model_available(settings) and user.review_consent is None:
            raise UserError(409, "review_consent_needed")
        source = "openai" if model_available(settings) and user.review_consent else "offline"
        if review is None:
            review = CodeReview(
                submission_id=submission_id, user_id=user.id, source=source, status=PENDING,
                body={}, created_at=datetime.now(UTC),
            )  # fmt: skip
            session.add(review)
            try:
                await session.commit()
            except IntegrityError:  # a concurrent request made it first
                await session.rollback()
                found = await find(session, submission_id)
                assert found is not None
                return found
        else:
            # Compare-and-set: only the request that still sees the row as it was restarts
            # it (two requests or polls at once would otherwise both start the work).
            restarted = await session.execute(
                update(CodeReview)
                .where(
                    CodeReview.id == review.id,
                    CodeReview.status == review.status,
                    CodeReview.created_at == review.created_at,
                )
                .values(status=PENDING, source=source, body={}, created_at=datetime.now(UTC))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
            if restarted.rowcount != 1:  # type: ignore[attr-defined]
                found = await find(session, submission_id)
                assert found is not None
                return found
        await session.refresh(review)
    services.spawn(make(services, review.id, review.created_at))
    return review


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _restartable(review: CodeReview) -> bool:
    """Failed, or pending and lost: STALE after its work started (`started_at` in the
    pending body, set when the task took an analysis slot), QUEUED_STALE after it was
    asked for if the work never started."""
    if review.status == FAILED:
        return True
    if review.status != PENDING:
        return False
    now = datetime.now(UTC)
    started = (review.body or {}).get("started_at")
    if isinstance(started, str):
        try:
            return now - _aware(datetime.fromisoformat(started)) > STALE
        except ValueError:
            pass
    return now - _aware(review.created_at) > QUEUED_STALE


async def read(services: Services, user: User, submission_id: int) -> CodeReview | None:
    """The user's review of a submission (None if none was asked for); a stale pending
    one (its server stopped) is started again."""
    async with services.db.reading() as session:
        await submissions.get_owned(session, user, submission_id)
        review = await find(session, submission_id)
    if review is not None and review.status == PENDING and _restartable(review):
        try:
            return await request_review(services, user, submission_id)
        except UserError:  # no longer allowed (a plan that ended): shown as it is
            return review
    return review


# The background work ------------------------------------------------------------------


class Toolkit:
    """The sandbox, judge and package cache this process uses for reviews (one per
    services: `toolkit_of`)."""

    def __init__(self, blobs: BlobStore, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox or Sandbox()
        self.judge = Judge(self.sandbox)
        self.packages = PackageCache(blobs, self.sandbox.root / "review-packages")
        # Analyses at once in this process (each runs programs in the sandbox).
        self.slots = asyncio.Semaphore(ANALYSES_AT_ONCE)


ANALYSES_AT_ONCE = 2


def toolkit_of(services: Services) -> Toolkit | None:
    """The services' toolkit, made on first use (building a sandbox costs a compile of
    its launcher, so not per review); None where no sandbox can be built (an API host
    without bubblewrap, as deploy/Dockerfile.api is): reviews then have no lint and no
    timing, and say so (offline.py's notes). Logged once per process."""
    if not hasattr(services, "_review_toolkit"):
        toolkit: Toolkit | None = None
        if shutil.which("bwrap") is None:  # a Sandbox would fail on every run: not built
            log.warning("review_sandbox_unavailable", error="bubblewrap (bwrap) is not on PATH")
        else:
            try:
                toolkit = Toolkit(services.blobs)
            except Exception as exc:
                log.warning("review_sandbox_unavailable", error=str(exc)[:200])
        services._review_toolkit = toolkit  # type: ignore[attr-defined]
    return services._review_toolkit  # type: ignore[attr-defined,no-any-return]


def _reference_language(solutions: Mapping[str, str], language: str) -> str | None:
    for name in (language, "python" if language == "pypy" else "", "cpp", "java", "python"):
        if name and name in solutions and name in languages.LANGUAGES:
            return name
    return next((n for n in solutions if n in languages.LANGUAGES), None)


def _times(judge: Judge, package: Any, language: str, code: str, cases: list[Any],
           time_limit: float) -> dict[str, float | None]:  # fmt: skip
    result = judge.judge(package, language, code, run_all=True, time_limit=time_limit,
                         tests=cases)  # fmt: skip
    by_name = {t.name: t for t in result.tests}
    out: dict[str, float | None] = {}
    for case in cases:
        test = by_name.get(case.name)
        out[case.name] = round(test.time, 4) if test is not None and test.verdict == "AC" else None
    return out


def analyse(
    toolkit: Toolkit | None,
    blobs: BlobStore,
    *,
    version_id: int,
    package_key: str,
    solutions: Mapping[str, str],
    language: str,
    code: str,
    compiled: bool,
    time_limit: float,
    own_times: Mapping[int, float],
) -> tuple[Lint, offline.Measured | None, float | None]:
    """Lint, the largest tests timed (the player's program and the reference's, here and
    now), and the growth of the player's recorded times with input size. Blocking.

    Tests are matched by position (`own_times` is keyed by the stored rows' index, which
    is the package's test order) and named as players see them (`disclosure.secret_name`):
    the package's file names say what a test holds and must not reach the body."""
    if toolkit is None:
        return Lint(TOOLS.get(language, language), False), None, None
    found = lint(toolkit.sandbox, language, code)
    try:
        package = toolkit.packages.get(package_key)
    except Exception as exc:  # a package that cannot be read: no timing, the rest stands
        log.warning("review_package_unreadable", version=version_id, error=str(exc)[:200])
        return found, None, None
    sizes = {
        index: case.input.stat().st_size
        for index, case in enumerate(package.tests)
        if not case.sample
    }
    own_growth = offline.growth((sizes[i], t) for i, t in own_times.items() if i in sizes)
    chosen = offline.largest(sizes)
    cases = [package.tests[index] for index in chosen]
    ref_language = _reference_language(solutions, language)
    if not cases or ref_language is None or not compiled:
        return found, None, own_growth
    try:
        reference = _reference_times(toolkit, blobs, version_id, package, ref_language,
                                     solutions[ref_language], cases, time_limit)  # fmt: skip
        player = _times(toolkit.judge, package, language, code, cases, time_limit)
    except Exception as exc:  # the judge failed: no timing, the rest stands
        log.warning("review_timing_failed", version=version_id, error=str(exc)[:200])
        return found, None, own_growth
    measured = offline.Measured(
        names=[disclosure.secret_name(c.name, i) for i, c in zip(chosen, cases, strict=True)],
        player=[player.get(c.name) for c in cases],
        reference=[reference.get(c.name) for c in cases],
        reference_language=ref_language,
    )
    return found, measured, own_growth


def _reference_times(
    toolkit: Toolkit, blobs: BlobStore, version_id: int, package: Any, language: str,
    code: str, cases: list[Any], time_limit: float,
) -> dict[str, float | None]:  # fmt: skip
    """The reference's times on `cases`: measured once per problem version and language,
    then read from blob storage."""
    key = f"{REFERENCE_CACHE}/{version_id}/{language}.json"
    try:
        cached = json.loads(blobs.get(key))
        if all(c.name in cached for c in cases):
            return {c.name: cached[c.name] for c in cases}
    except (KeyError, ValueError):
        pass
    times = _times(toolkit.judge, package, language, code, cases, time_limit)
    if any(t is not None for t in times.values()):
        blobs.put(key, json.dumps(times).encode())
    return times


def own_times_of(tests: Sequence[SubmissionTest]) -> dict[int, float]:
    """The player's recorded CPU times on the secret tests it passed, by position: stored
    rows carry the names players see (`secret/3`), not the package's, so only the index
    matches a row to its test."""
    return {t.index: t.time for t in tests if not t.sample and t.verdict == "AC"}


def _this_attempt(attempt: datetime) -> Any:
    """The rows still on this attempt of the review (not restarted since, not done)."""
    return (CodeReview.status == PENDING) & (CodeReview.created_at == attempt)


async def make(services: Services, review_id: int, attempt: datetime) -> None:
    """Make a review (the background task): offline always, then the model when the
    review's source says so; a model failure keeps the offline one (source "offline").
    `attempt` is the row's created_at when this task was started: a task whose attempt
    was replaced (restarted) does nothing and writes nothing."""
    try:
        await _make(services, review_id, attempt)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("review_failed", review=review_id)
        async with services.db.session() as session:
            await session.execute(
                update(CodeReview)
                .where(CodeReview.id == review_id, _this_attempt(attempt))
                .values(status=FAILED)
            )
            await session.commit()


async def _claim(services: Services, review_id: int, attempt: datetime) -> bool:
    """Mark the work as started (staleness counts from here); False when the review was
    restarted meanwhile (another task owns it)."""
    started = {"started_at": datetime.now(UTC).isoformat()}
    async with services.db.session() as session:
        claimed = await session.execute(
            update(CodeReview)
            .where(CodeReview.id == review_id, _this_attempt(attempt))
            .values(body=started)
        )
        await session.commit()
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


async def consent_now(services: Services, user_id: int) -> bool:
    """The user's consent as stored now, in a fresh session (not an object read before
    the analysis: it may have been withdrawn while that ran)."""
    async with services.db.reading() as session:
        consent = await session.scalar(select(User.review_consent).where(User.id == user_id))
    return consent is True


async def _make(services: Services, review_id: int, attempt: datetime) -> None:
    settings = services.settings
    async with services.db.reading() as session:
        review = await session.get(CodeReview, review_id)
        if review is None or review.status != PENDING or _aware(review.created_at) != attempt:
            return
        submission = await session.get(Submission, review.submission_id)
        user = await session.get(User, review.user_id)
        assert submission is not None and user is not None
        version = await session.get(ProblemVersion, submission.problem_version_id)
        assert version is not None
        tests = await submissions.tests_of(session, submission.id)
        source = review.source
    code = await submissions.code_of(services.blobs, submission) or ""
    shown = [submissions.test_json(t) for t in tests]
    own_times = own_times_of(tests)
    toolkit = toolkit_of(services)
    async with toolkit.slots if toolkit is not None else contextlib.nullcontext():
        if not await _claim(services, review_id, attempt):
            return  # restarted while this waited for a slot: the newer task makes it
        found, measured, own_growth = await asyncio.to_thread(
            analyse, toolkit, services.blobs, version_id=version.id,
            package_key=version.package_key, solutions=dict(version.solutions or {}),
            language=submission.language, code=code, compiled=submission.verdict != "CE",
            time_limit=version.time_limit, own_times=own_times,
        )  # fmt: skip
    body = offline.build(
        verdict=submission.verdict, passed=submission.tests_passed,
        total=submission.tests_total, tests=shown, lint=found, measured=measured,
        own_growth=own_growth, time_limit=version.time_limit,
    )  # fmt: skip
    if source == "openai":
        # Consent is read again, from the database, just before the call: it may have been
        # withdrawn while this waited for a slot and ran the analysis.
        if model_available(settings) and await consent_now(services, user.id):
            answered = await _ask_model(services, version, submission, code, body, user.locale)
            if answered is None:  # the player is told the model did not answer
                body = {**body, "model_failed": True}
        else:
            answered = None
        if answered is None:
            source = "offline"
        else:
            body = answered
    async with services.db.session() as session:
        await session.execute(
            update(CodeReview)
            .where(CodeReview.id == review_id, _this_attempt(attempt))
            .values(status=READY, source=source, body=body)
        )
        await session.commit()
    log.info("review_ready", review=review_id, source=source)


async def _ask_model(
    services: Services, version: ProblemVersion, submission: Submission, code: str,
    body: dict[str, Any], locale: str,
) -> dict[str, Any] | None:  # fmt: skip
    settings = services.settings
    assert settings.OPENAI_API_KEY is not None
    client = OpenAIClient(
        settings.OPENAI_API_KEY.get_secret_value(), model=settings.OPENAI_MODEL,
        base_url=settings.OPENAI_BASE_URL, timeout=settings.OPENAI_TIMEOUT_SECONDS,
    )  # fmt: skip
    try:
        _lang, statement = problems.statement_of(version, locale)
        title = (
            languages.get(submission.language).title
            if submission.language in languages.LANGUAGES
            else submission.language
        )
        return await online.review(
            client, body, statement=statement, language_title=title, code=code, locale=locale
        )
    finally:
        await client.aclose()


# What pages and the API show ----------------------------------------------------------


def as_json(review: CodeReview | None, locale: str) -> dict[str, Any]:
    """A review for the page and the API: the notes translated into `locale`."""
    if review is None:
        return {"status": "none"}
    out: dict[str, Any] = {"id": review.id, "status": review.status, "source": review.source}
    if review.status == READY:
        body = dict(review.body)
        sections = body.get("sections", {})
        body["sections"] = {
            name: [_text(n, locale) for n in sections.get(name, [])]
            for name in ("correctness", "complexity", "style", "approach")
        }
        out["body"] = body
    return out


def _text(item: Mapping[str, Any], locale: str) -> str:
    if "text" in item:
        return str(item["text"])
    return translate(str(item.get("key")), locale, **dict(item.get("params") or {}))
