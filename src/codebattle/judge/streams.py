"""The Redis jobs streams: their names, and what XINFO GROUPS says of each (the worker's
look before it reads, the queue's backlog).

One stream per language and priority level, `codebattle:jobs:<language>:<level>`, so a
worker pool of one language (`codebattle worker --languages cpp`) reads only its jobs and
never takes one it cannot judge. Older versions had one stream per level (LEGACY_STREAMS,
the practice one being the first version's only stream): a worker moves what it finds there
to the job's own stream (judge/worker.py `reroute`), so nothing queued before an upgrade is
lost, whatever the languages of the workers that find it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codebattle.judge import jobs
from codebattle.judge.jobs import Job

JOBS_STREAM = "codebattle:jobs"
WORKERS_GROUP = "workers"
# Older versions' streams, one per level, most urgent first (practice kept the name of the
# first version's only stream).
LEGACY_STREAMS = (*(f"{JOBS_STREAM}:{level}" for level in jobs.LEVELS[:-1]), JOBS_STREAM)


def stream_of(language: str, level: int) -> str:
    return f"{JOBS_STREAM}:{language}:{level}"


def language_streams(language: str) -> tuple[str, ...]:
    """The language's streams, one per level, most urgent first."""
    return tuple(stream_of(language, level) for level in jobs.LEVELS)


def job_stream(job: Job) -> str:
    """The stream of the job's language and priority level."""
    return stream_of(job["language"], jobs.priority(job))


@dataclass(frozen=True, slots=True)
class StreamState:
    """One jobs stream as XINFO GROUPS tells it (for the workers' group).

    `lag` is how many entries the group has not delivered yet (Redis 7; None when Redis
    cannot tell, e.g. after deletions inside the stream). Without the group (a stream made
    by XADD after Redis lost its data, before anyone recreated the group), every entry is
    undelivered: the group is created from id 0."""

    exists: bool
    grouped: bool
    pending: int  # delivered, not yet acked
    lag: int | None
    last_delivered: bytes

    @property
    def maybe_new(self) -> bool:
        """It may hold a job no worker took yet."""
        return self.exists and (not self.grouped or self.lag is None or self.lag > 0)

    def after_delivered(self) -> str:
        """XRANGE's start for the first undelivered entry."""
        return f"({self.last_delivered.decode()}" if self.grouped else "-"


EMPTY = StreamState(exists=False, grouped=False, pending=0, lag=0, last_delivered=b"0-0")


def parse_groups(reply: Any) -> StreamState:
    """XINFO GROUPS's reply (or the error a pipeline returned for it) as a StreamState.
    A stream that does not exist is EMPTY; any other error is raised."""
    if isinstance(reply, Exception):
        if "no such key" in str(reply):
            return EMPTY
        raise reply
    for group in reply:
        name = group["name"]
        if (name.decode() if isinstance(name, bytes) else name) != WORKERS_GROUP:
            continue
        lag = group.get("lag")
        last = group["last-delivered-id"]
        return StreamState(
            exists=True,
            grouped=True,
            pending=int(group["pending"]),
            lag=None if lag is None else int(lag),
            last_delivered=last if isinstance(last, bytes) else str(last).encode(),
        )
    return StreamState(exists=True, grouped=False, pending=0, lag=None, last_delivered=b"0-0")


def age_seconds(message_id: bytes | str, now: float) -> float:
    """How long ago Redis added the entry (its id is the time in ms), never negative."""
    raw = message_id.decode() if isinstance(message_id, bytes) else message_id
    return max(0.0, now - int(raw.split("-", 1)[0]) / 1000)
