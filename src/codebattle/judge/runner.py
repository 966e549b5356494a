"""Runs one judge job: fetch the package, judge, emit events. Used by the in-process queue
and by standalone workers alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast

import structlog

from codebattle import logs
from codebattle.integrations import tracing
from codebattle.judge import archive, disclosure, jobs, languages
from codebattle.judge.engine import RAN_OK, Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.prebuilt import PREBUILTS
from codebattle.judge.sandbox import Sandbox
from codebattle.judge.verdicts import JudgeResult, TestResult, Verdict
from codebattle.storage import BlobStore, S3Error

log = structlog.get_logger(__name__)
# Waits between tries of a package fetch while the blob store is away (a throttled or
# briefly down bucket; each try is botocore's own retries too). Then the job goes back to its
# queue (BlobsUnavailable), which gives it again later: a short outage is never a verdict.
FETCH_RETRY_SECONDS = (0.5, 1.0, 2.0)
# What a local worker process writes instead of events for such a job (judge/local_worker.py
# to judge/queue.py LocalQueue): {"submission": id, "type": GIVEN_BACK}.
GIVEN_BACK = "given_back"
RUN_OUTPUT_BYTES = 16 * 1024
# What a player reads of an internal error; the details (a scoring error names secret test
# cases, a validator's build output its source) go to the log (judge/disclosure.py).
INTERNAL_ERROR = "the judge could not finish judging this submission; it was not your fault"


class BlobsUnavailable(Exception):  # noqa: N818 - a state, as KeyError is
    """The blob store did not answer for a job's package (a transient S3Error) even after
    FETCH_RETRY_SECONDS: not a verdict. The job's queue delivers it again later (Redis:
    left unacked, judge/worker.py; the embedded default: put back, judge/queue.py), up to
    MAX_DELIVERIES times. A package that is missing (KeyError) is no such thing: an IE."""


class PackageCache:
    """Unpacked packages by archive key, loaded once per process."""

    def __init__(self, blobs: BlobStore, root: Path) -> None:
        self.blobs = blobs
        self.root = root
        self._loaded: dict[str, ProblemPackage] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> ProblemPackage:
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
            folder = self.root / key.replace("/", "_").removesuffix(".tar.gz")
            if not folder.is_dir():
                archive.unpack(self._fetch(key), folder)
            package = load_package(folder)
            self._loaded[key] = package
            return package

    def _fetch(self, key: str) -> bytes:
        """The archive; BlobsUnavailable if the store stays away through the retries."""
        for wait in (*FETCH_RETRY_SECONDS, None):
            try:
                return self.blobs.get(key)
            except S3Error as exc:
                if not exc.transient:  # a set-up error (credentials, bucket): an IE
                    raise
                if wait is None:
                    raise BlobsUnavailable(str(exc)) from None
                log.warning("the blob store is unavailable; trying again",
                            key=key, error=str(exc), wait=wait)  # fmt: skip
                time.sleep(wait)
        raise AssertionError("unreachable")  # the last wait is None


class Runner(Protocol):
    """What a queue's worker runs a job with: this module's JobRunner, or the preview's
    judge/mock.MockRunner."""

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None: ...


class JobRunner:
    def __init__(self, judge: Judge, packages: PackageCache) -> None:
        self.judge = judge
        self.packages = packages

    @classmethod
    def on_this_host(cls, blobs: BlobStore) -> JobRunner:
        """A judge with its package cache. The cache lives in the sandbox root, whose
        folders the sandboxed validators (as nobody) can traverse."""
        judge = Judge(Sandbox())
        # Built once per toolchain (`codebattle judge prepare`); a worker that finds one
        # missing or stale builds it while it judges without it.
        PREBUILTS.prepare_in_background(judge.sandbox, languages.prebuilt())
        return cls(judge, PackageCache(blobs, judge.sandbox.root / "packages"))

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        """Judge `job`, calling `emit` with each event (started, compiled unless it did not
        compile, each test, done). Never raises for a job's fault:
        anything unexpected becomes an IE result (logged, not shown to the player).
        Raises BlobsUnavailable, having emitted nothing, when the blob store is away: the
        caller gives the job back to its queue.
        Traced as one `judge job` span in the submitter's trace (the job's `trace`)."""
        attributes: dict[str, str | int] = {
            "codebattle.submission": job["submission"],
            "codebattle.language": job["language"],
            "codebattle.kind": job["kind"],
            "codebattle.priority": jobs.priority(job),
        }
        with (
            logs.bound(submission_id=job["submission"]),  # on every line of its judging
            tracing.job_span("judge job", job.get("trace"), attributes) as span,
        ):
            self._execute(job, traced(emit, span))

    def _execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        began = time.monotonic()
        try:
            # Before "started": a job given back to its queue (BlobsUnavailable) sent nothing.
            package = self.packages.get(job["package_key"])
            emit(jobs.started(job))
            if job["kind"] == "custom":
                emit(self._custom(job, package, began, emit))
                return
            tests = package.samples if job["kind"] == "samples" else None
            judged: list[jobs.TestData] = []

            def on_test(item: TestResult | JudgeResult) -> None:
                if isinstance(item, TestResult):
                    index = len(judged)
                    if item.verdict == Verdict.IE:  # for operators; the player sees "IE"
                        log.warning(
                            "internal error on a test", submission=job["submission"],
                            test=item.name, feedback=item.feedback[:2000],
                        )  # fmt: skip
                    judged.append(as_sent(item, index))
                    emit(jobs.test_event(job, index, judged[-1]))

            result = self.judge.judge(
                package,
                job["language"],
                job["code"],
                run_all=job["run_all"],
                time_limit=job["time_limit"],
                tests=tests,
                on_test=on_test,
                on_compiled=lambda: emit(jobs.compiled(job)),
            )
            if result.verdict == Verdict.IE:  # its message may name secret tests: logged
                log.warning(
                    "internal error", submission=job["submission"], message=result.message[:2000]
                )
            emit(
                jobs.done(
                    job,
                    {
                        "verdict": result.verdict,
                        "compile_output": result.compile_output,
                        "message": INTERNAL_ERROR if result.verdict == Verdict.IE else "",
                        "tests_total": len(tests if tests is not None else package.tests),
                        "judge_time": round(time.monotonic() - began, 4),
                        "tests": judged,
                    },
                )
            )
        except BlobsUnavailable:
            raise  # not a verdict: the queue gives the job again
        except Exception:
            log.exception("judge job failed", submission=job["submission"])
            emit(
                jobs.failed(
                    job,
                    "the judge failed on this submission; it was not your fault",
                    judge_time=round(time.monotonic() - began, 4),
                )
            )

    def _custom(
        self,
        job: jobs.Job,
        package: ProblemPackage,
        began: float,
        emit: Callable[[jobs.Event], None],
    ) -> jobs.DoneEvent:
        run = self.judge.run_custom(
            job["language"],
            job["code"],
            job["stdin"].encode(),
            time_limit=job["time_limit"],
            memory_mb=package.limits.memory,
            package=package,
            on_compiled=lambda: emit(jobs.compiled(job)),
        )
        output = run.stdout[:RUN_OUTPUT_BYTES]
        if run.stderr and run.verdict != RAN_OK:
            output += ("\n" if output else "") + run.stderr
        return jobs.done(
            job,
            {
                "verdict": run.verdict,
                "compile_output": run.compile_output,
                "message": "",
                "run_output": output,
                "time": run.time,
                "memory": run.memory,
                "tests_total": 0,
                "judge_time": round(time.monotonic() - began, 4),
            },
        )


def traced(emit: Callable[[jobs.Event], None], span: tracing.Span) -> Callable[[jobs.Event], None]:
    """`emit`, noting the judging on the job's span: the compile and each test as events
    (cheap: no span per test), the verdict and test count as attributes; the done event
    carries the span's context, which the recorder links to."""
    if not span.is_recording():
        return emit

    def emit_traced(event: jobs.Event) -> None:
        if event["type"] == "compiled":
            span.add_event("compiled")
        elif event["type"] == "test":
            test = event["test"]
            span.add_event(
                "test",
                {"index": event["index"], "verdict": test["verdict"],
                 "time": test.get("time", 0.0)},
            )  # fmt: skip
            with tracing.untraced():  # its send (Redis) is no span: one per test is too many
                emit(event)
            return
        elif event["type"] == "done":
            result = event["result"]
            span.set_attribute("codebattle.verdict", result["verdict"])
            span.set_attribute("codebattle.tests", len(result.get("tests", [])))
            event = {**event, "trace": tracing.carrier()}
        emit(event)

    return emit_traced


def as_sent(result: TestResult, index: int) -> jobs.TestData:
    """A test's result as it leaves the worker: secret tests' details never do
    (judge/disclosure.py)."""
    return cast(jobs.TestData, disclosure.for_player(result.to_json(), index))
