"""The backlog where Redis cannot tell a group's lag (XINFO GROUPS says nil: an entry the
group has not delivered was deleted, XDEL): the undelivered entries are counted by XRANGE,
up to UNKNOWN_LAG_CAP, rather than read as one. Each test has its own redis-server."""

from __future__ import annotations

import pytest

from codebattle.judge import jobs
from codebattle.judge import queue as queue_module
from codebattle.judge.streams import WORKERS_GROUP, stream_of
from tests.judge.test_queue_language_pools import backlog_of, enqueue, job, pool
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

PRACTICE = jobs.PRACTICE
STREAM = stream_of("python", PRACTICE)


def _lag(server: RedisServer) -> object:
    (group,) = [
        g for g in server.client().xinfo_groups(STREAM) if g["name"] == WORKERS_GROUP.encode()
    ]
    return group["lag"]


def test_a_deleted_entry_leaves_the_lag_unknown_and_the_rest_are_counted(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    enqueue(private_redis.url, *(job(n, PRACTICE) for n in range(1, 6)))
    taker = pool(private_redis.url, "python")
    assert taker.next_job() is not None  # job 1: delivered, not acked
    entries = private_redis.client().xrange(STREAM)
    private_redis.client().xdel(STREAM, entries[2][0])  # job 3, never delivered
    assert _lag(private_redis) is None  # Redis cannot tell
    found = backlog_of(private_redis.url)["python"]
    assert (found.depth, found.taken) == (3, 1)  # jobs 2, 4 and 5 wait; job 1 is taken
    assert found.oldest_seconds >= 0.0


def test_past_the_cap_the_count_is_a_lower_bound(
    private_redis: RedisServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queue_module, "UNKNOWN_LAG_CAP", 2)
    enqueue(private_redis.url, *(job(n, PRACTICE) for n in range(1, 6)))
    private_redis.client().xdel(STREAM, private_redis.client().xrange(STREAM)[-1][0])
    assert _lag(private_redis) is None
    assert backlog_of(private_redis.url)["python"].depth == 2
