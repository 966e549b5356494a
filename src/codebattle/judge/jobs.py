"""Judge jobs and the events a worker sends back: typed, and plain JSON on the wire (Redis
streams, a local worker's pipe).

A job carries everything a worker needs (code, package archive key, limits), so workers
never touch the database. Events for one job, in order:
  Started      {"submission": id, "type": "started"}
  Compiled     {"submission": id, "type": "compiled"}   (compiled: its tests come next;
                                                          none after a compile error)
  TestEvent    {"submission": id, "type": "test", "index": i, "test": TestData}   (per test)
  DoneEvent    {"submission": id, "type": "done", "result": FinalResult}
`submission` here routes the event to its submission; what a browser receives is built
from these by `submissions/messages.py`, field by field.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from codebattle.judge.verdicts import Verdict


class Job(TypedDict):
    submission: int
    kind: str  # "submit" | "samples" | "custom"
    language: str
    code: str
    package_key: str
    time_limit: float
    stdin: str  # custom runs only
    run_all: bool
    # Lower is judged first (judge/queue.py): see MATCH..PRACTICE. Absent in a job queued
    # by an older version: judged as PRACTICE.
    priority: NotRequired[int]
    # The submitter's trace context (W3C traceparent headers, integrations/tracing.py), so
    # the worker's judging joins the request's trace. Absent without tracing, or from an
    # older version: the job is judged all the same.
    trace: NotRequired[dict[str, str]]


# Priority levels, most urgent first: a duel's submissions (a race), a sample or custom run
# (a person waits for a short run), a room's submissions, practice.
MATCH, RUN, ROOM, PRACTICE = 0, 1, 2, 3
LEVELS = (MATCH, RUN, ROOM, PRACTICE)
# The levels of the urgent lane: workers kept for them (JUDGE_URGENT_WORKERS, `codebattle
# worker --urgent`) never take a lower level's job, so a race or a run waits for one of them
# to be free, never for a practice submission to end (no job is ever preempted).
URGENT = (MATCH, RUN)


def priority(job: Job) -> int:
    """The job's level; one it lacks or that is unknown counts as the lowest."""
    level = job.get("priority", PRACTICE)
    return level if level in LEVELS else PRACTICE


class TestData(TypedDict):
    """One test's result as it leaves the worker (`TestResult.to_json()` passed through
    `disclosure.for_player`: a secret test has only name, verdict, time, memory, score and
    sample)."""

    name: str
    verdict: str
    sample: bool
    time: NotRequired[float]
    memory: NotRequired[int]
    score: NotRequired[float | None]
    wall_time: NotRequired[float]
    exit_code: NotRequired[int | None]
    signal: NotRequired[int | None]
    feedback: NotRequired[str]


class FinalResult(TypedDict):
    """A whole submission's result."""

    verdict: str
    compile_output: str
    message: str  # for an internal error only (a judge fault), else ""
    tests_total: int
    judge_time: float  # the worker's own seconds
    # Every test again: recorders (API instances) may take events out of order, so the
    # final event alone is enough to record the result.
    tests: NotRequired[list[TestData]]
    run_output: NotRequired[str]  # a custom run's output
    time: NotRequired[float]  # a custom run's CPU seconds
    memory: NotRequired[int]  # a custom run's peak bytes


class Started(TypedDict):
    submission: int
    type: Literal["started"]


class Compiled(TypedDict):
    submission: int
    type: Literal["compiled"]


class TestEvent(TypedDict):
    submission: int
    type: Literal["test"]
    index: int
    test: TestData


class DoneEvent(TypedDict):
    submission: int
    type: Literal["done"]
    result: FinalResult
    trace: NotRequired[dict[str, str]]  # the worker's `judge job` span: recording links it


Event = Started | Compiled | TestEvent | DoneEvent


def started(job: Job) -> Started:
    return {"submission": job["submission"], "type": "started"}


def compiled(job: Job) -> Compiled:
    return {"submission": job["submission"], "type": "compiled"}


def test_event(job: Job, index: int, test: TestData) -> TestEvent:
    return {"submission": job["submission"], "type": "test", "index": index, "test": test}


def done(job: Job, result: FinalResult) -> DoneEvent:
    return {"submission": job["submission"], "type": "done", "result": result}


def failed(job: Job | int, message: str, judge_time: float = 0.0) -> DoneEvent:
    """The result of a job (or a submission id) the judge could not judge: an internal
    error, not the player's."""
    submission = job if isinstance(job, int) else job["submission"]
    return {
        "submission": submission,
        "type": "done",
        "result": {
            "verdict": Verdict.IE,
            "compile_output": "",
            "message": message,
            "tests_total": 0,
            "judge_time": judge_time,
        },
    }
