"""The preview's mock sandbox (decision 0030): a runner that runs nothing. It emits the events
a real judge emits (started, compiled, one result per test with the package's own test names
and sample flags, done) with a verdict chosen by a rule over the code, documented in
docs/operations.md ("Preview mode"):

- code that is empty (or only white space) does not compile: CE (a guard only: the submit
  and run paths refuse such code first, 422 `code_empty`, so no such job is queued);
- else the first marker comment chooses the verdict: `# preview: WA`, `// preview: TLE`
  (any of AC, WA, TLE, MLE, RE, OLE, CE, IE; `#`, `//`, `--` or `;` before it);
- else AC.
A failing verdict lands on the first secret test (the first test when only samples are run
or there is no secret test); the tests before it pass; judging stops there unless the job
runs every test, when the later ones pass. Times and memory are 0. A custom run's output is
empty: OK, or the marker's failure when it is one a run can have.

It reads the package only for its test list, as the real runner does (PackageCache: the
archive from blob storage, unpacked and read in Python): no sandbox, no compiler."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import structlog

from codebattle.judge import jobs
from codebattle.judge.engine import RAN_OK
from codebattle.judge.package import TestCase
from codebattle.judge.runner import INTERNAL_ERROR, PackageCache, as_sent
from codebattle.judge.verdicts import TestResult, Verdict
from codebattle.storage import BlobStore

log = structlog.get_logger(__name__)
MARKER = re.compile(
    r"(?:#|//|--|;)[ \t]*preview[ \t]*:[ \t]*(AC|WA|TLE|MLE|RE|OLE|CE|IE)\b", re.IGNORECASE
)
EMPTY_CODE = "preview: the code is empty, so it does not compile"
MARKED_CE = "preview: a compile error, as the code's marker asks"
# A custom run can fail these ways (it has no answer to be wrong against).
RUN_FAILURES = frozenset(
    {Verdict.CE, Verdict.TLE, Verdict.MLE, Verdict.RE, Verdict.OLE, Verdict.IE}
)


def verdict_for(code: str) -> Verdict:
    """The rule: CE for empty code (never queued: submissions.check_code refuses it), else
    the first marker's verdict, else AC."""
    if not code.strip():
        return Verdict.CE
    marker = MARKER.search(code)
    return Verdict(marker.group(1).upper()) if marker else Verdict.AC


def failing_index(tests: list[TestCase]) -> int:
    """Where a failing verdict lands: the first secret test, else the first test."""
    return next((i for i, test in enumerate(tests) if not test.sample), 0)


class MockRunner:
    """A judge.queue runner for previews: `execute` emits the rule's events at once."""

    def __init__(self, packages: PackageCache) -> None:
        self.packages = packages

    @classmethod
    def for_preview(cls, blobs: BlobStore, data_dir: Path) -> MockRunner:
        return cls(PackageCache(blobs, data_dir / "preview-packages"))

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        emit(jobs.started(job))
        verdict = verdict_for(job["code"])
        if job["kind"] == "custom":
            emit(self._custom(job, verdict))
            return
        try:
            package = self.packages.get(job["package_key"])
        except Exception:  # as the real runner: the judge's fault, never the player's
            log.exception("preview: the package could not be read", submission=job["submission"])
            emit(jobs.failed(job, "the judge failed on this submission; it was not your fault"))
            return
        tests = package.samples if job["kind"] == "samples" else package.tests
        if verdict == Verdict.CE:
            emit(jobs.done(job, _final(verdict, _compile_output(job["code"]), len(tests), [])))
            return
        emit(jobs.compiled(job))
        judged: list[jobs.TestData] = []
        failing = failing_index(tests) if verdict != Verdict.AC else len(tests)
        for index, test in enumerate(tests):
            if index > failing and not job["run_all"]:
                break
            result = TestResult(
                test.name, verdict if index == failing else Verdict.AC, sample=test.sample
            )
            judged.append(as_sent(result, index))
            emit(jobs.test_event(job, index, judged[-1]))
        final = verdict if tests else Verdict.AC  # no test can fail: accepted, as the engine
        emit(jobs.done(job, _final(final, "", len(tests), judged)))

    def _custom(self, job: jobs.Job, verdict: Verdict) -> jobs.DoneEvent:
        ran = str(verdict) if verdict in RUN_FAILURES else RAN_OK
        result = _final(ran, _compile_output(job["code"]) if ran == Verdict.CE else "", 0, None)
        result.update({"run_output": "", "time": 0.0, "memory": 0})
        return jobs.done(job, result)


def _compile_output(code: str) -> str:
    return EMPTY_CODE if not code.strip() else MARKED_CE


def _final(
    verdict: str, compile_output: str, total: int, tests: list[jobs.TestData] | None
) -> jobs.FinalResult:
    result: jobs.FinalResult = {
        "verdict": verdict,
        "compile_output": compile_output,
        "message": INTERNAL_ERROR if verdict == Verdict.IE else "",
        "tests_total": total,
        "judge_time": 0.0,
    }
    if tests is not None:
        result["tests"] = tests
    return result
