"""Judge jobs and the events a worker sends back, as plain JSON-able dicts.

A job carries everything a worker needs (code, package archive key, limits), so workers
never touch the database. Events for one job, in order:
  {"submission": id, "type": "started"}
  {"submission": id, "type": "test", "index": i, "test": TestResult.to_json()}   (per test)
  {"submission": id, "type": "done", "result": {...}}
"""

from __future__ import annotations

from typing import Any, TypedDict


class Job(TypedDict):
    submission: int
    kind: str  # "submit" | "samples" | "custom"
    language: str
    code: str
    package_key: str
    time_limit: float
    stdin: str  # custom runs only
    run_all: bool


Event = dict[str, Any]


def started(job: Job) -> Event:
    return {"submission": job["submission"], "type": "started"}


def test_event(job: Job, index: int, test: dict[str, Any]) -> Event:
    return {"submission": job["submission"], "type": "test", "index": index, "test": test}


def done(job: Job, **result: Any) -> Event:
    return {"submission": job["submission"], "type": "done", "result": result}
