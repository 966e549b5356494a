"""A blob store that is briefly away (a bucket down or throttling) while a worker fetches a
job's package is no verdict: the runner tries again a few times, then the job goes back to
its queue (Redis: left unacked and delivered again; the local and in-process queues: queued
again), and is judged once the bucket answers. A package that is missing is one IE, at once;
a bucket that stays away ends the job as one IE after MAX_DELIVERIES tries.

The bucket is a real `moto_server` on loopback, behind a small HTTP front that answers
503 SlowDown (S3's throttling) to its first N requests, then passes requests through."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from structlog.testing import capture_logs

from codebattle.integrations.s3 import S3Bucket
from codebattle.judge import archive, jobs, runner
from codebattle.judge import queue as queue_module
from codebattle.judge.engine import Judge
from codebattle.judge.queue import MAX_DELIVERIES, RESULTS_STREAM, InProcessQueue, LocalQueue
from codebattle.judge.runner import JobRunner, PackageCache
from codebattle.judge.streams import WORKERS_GROUP, job_stream
from codebattle.judge.worker import Worker
from codebattle.storage import S3BlobStore, S3Error, content_key
from tests.support.packages import make_package
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.s3_server import KEY_ID, REGION, SECRET, S3Server, s3_server  # noqa: F401

WAIT = 90.0  # every wait is bounded by this (a real sandbox judges; the machine is shared)
SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FlakyFront:
    """An HTTP front to an S3 server: 503 SlowDown to the first `failures` requests, then
    every request passed through. Counts what it refused."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream = urlsplit(upstream).netloc
        self.failures = failures
        self.refused = 0
        self.passed = 0
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                with front._lock:
                    refuse = front.refused < front.failures
                    if refuse:
                        front.refused += 1
                    else:
                        front.passed += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if refuse:
                    self._answer(503, {"Content-Type": "application/xml"}, SLOW_DOWN)
                    return
                upstream = http.client.HTTPConnection(front.upstream, timeout=30)
                try:
                    upstream.request(self.command, self.path, body, dict(self.headers))
                    reply = upstream.getresponse()
                    data = reply.read()
                    kept = {k: v for k, v in reply.getheaders()
                            if k.lower() not in ("connection", "transfer-encoding",
                                                 "content-length")}  # fmt: skip
                    self._answer(reply.status, kept, data)
                finally:
                    upstream.close()

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")  # never a pooled, half-closed socket
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _any  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the test's output stays readable

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FlakyFront:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bucket(s3_server: S3Server) -> str:  # noqa: F811
    return s3_server.new_bucket()


@pytest.fixture
def package_key(s3_server: S3Server, bucket: str, tmp_path: Path) -> str:  # noqa: F811
    """An adder package (a + b), put straight into the bucket (not through the front).
    Unique: a judge process's cache (the sandbox root's packages/) keeps what it unpacked."""
    unique = {"attachments/id.txt": uuid.uuid4().hex}
    data = archive.pack(make_package(tmp_path / "src", files=unique))
    key = content_key("packages", data, ".tar.gz")
    s3_server.client().put_object(Bucket=bucket, Key=key, Body=data)
    return key


@pytest.fixture(scope="session")
def requests_per_get(s3_server: S3Server) -> int:  # noqa: F811
    """How many requests one S3 GET makes while the bucket throttles (botocore's own
    retries), measured: a delivery's fetch makes this many per try of the runner's."""
    bucket = s3_server.new_bucket()
    with FlakyFront(s3_server.url, 1000) as front:
        with pytest.raises(S3Error):
            store_behind(front, bucket).get("packages/ab/any.tar.gz")
        return front.refused


def requests_per_delivery(requests_per_get: int) -> int:
    """A delivery's fetch: the runner's tries (FETCH_RETRY_SECONDS, then one more)."""
    return requests_per_get * (len(runner.FETCH_RETRY_SECONDS) + 1)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's waits between tries, short (their number stays)."""
    monkeypatch.setattr(runner, "FETCH_RETRY_SECONDS", (0.01, 0.01, 0.01))


def store_behind(front: FlakyFront, bucket: str) -> S3BlobStore:
    return S3BlobStore(
        S3Bucket(endpoint=front.url, access_key_id=KEY_ID, secret_access_key=SECRET,
                 bucket=bucket, region=REGION, multipart_bytes=8 << 20)
    )  # fmt: skip


def job_runner(judge: Judge, store: S3BlobStore) -> JobRunner:
    # A cache folder of its own (under the sandbox's root, which nobody can traverse).
    return JobRunner(judge, PackageCache(store, judge.sandbox.root / f"pkg-{uuid.uuid4().hex}"))


def a_job(submission: int, package_key: str) -> jobs.Job:
    return {"submission": submission, "kind": "submit", "language": "python", "code": SUM_PY,
            "package_key": package_key, "time_limit": 2.0, "stdin": "", "run_all": False,
            "priority": jobs.PRACTICE}  # fmt: skip


# -- over Redis: `codebattle worker` --------------------------------------------------------


@contextlib.contextmanager
def serving(url: str, job_runner: JobRunner) -> Iterator[Worker]:
    """A `codebattle worker` serving in a thread of this process (redelivery after 1 s)."""
    worker = Worker(url, job_runner, redelivery_seconds=1.0, languages=("python",))
    thread = threading.Thread(target=worker.serve, name="test worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stopping.set()
        thread.join(30)


def events_of(client: redis.Redis, submission: int) -> list[dict[str, Any]]:
    """The job's events on the results stream, in order."""
    sent: Any = client.xrange(RESULTS_STREAM)
    events = [json.loads(fields[b"event"]) for _id, fields in sent]
    return [e for e in events if e["submission"] == submission]


def done_events(client: redis.Redis, submission: int) -> list[dict[str, Any]]:
    return [e for e in events_of(client, submission) if e["type"] == "done"]


def wait_done(client: redis.Redis, submission: int) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while not (found := done_events(client, submission)):
        assert time.monotonic() < deadline, "the job was never finished"
        time.sleep(0.1)
    return found[0]


def pending(client: redis.Redis, job: jobs.Job) -> int:
    summary: Any = client.xpending(job_stream(job), WORKERS_GROUP)
    return int(summary["pending"])


def test_a_job_whose_bucket_throttles_for_a_while_is_judged_over_redis(
    judge: Judge,
    private_redis: RedisServer,  # noqa: F811
    s3_server: S3Server,  # noqa: F811
    bucket: str,
    package_key: str,
    quick_retries: None,
    requests_per_get: int,
) -> None:
    # More failures than one delivery's tries: the first delivery gives the job back.
    failures = requests_per_delivery(requests_per_get) + requests_per_get - 1
    client = private_redis.client()
    job = a_job(101, package_key)
    with (
        FlakyFront(s3_server.url, failures) as front,
        capture_logs() as logged,
        serving(private_redis.url, job_runner(judge, store_behind(front, bucket))),
    ):
        client.xadd(job_stream(job), {"job": json.dumps(job)})
        done = wait_done(client, job["submission"])
    assert done["result"]["verdict"] == "AC", done
    assert front.refused == failures  # the bucket did refuse it, and came back
    # Nothing was sent for the delivery that could not fetch the package: one "started".
    kinds = [e["type"] for e in events_of(client, job["submission"])]
    assert kinds.count("started") == 1 and kinds.count("done") == 1, kinds
    given_back = [e for e in logged
                  if e["event"] == "the blob store is unavailable; the job is left to be "
                                   "judged again"]  # fmt: skip
    assert [e["delivery"] for e in given_back] == [1], given_back
    assert given_back[0]["submission"] == job["submission"]
    assert "SlowDown" in given_back[0]["error"] and SECRET not in str(logged)
    assert pending(client, job) == 0  # acked once judged


def test_a_missing_package_is_one_internal_error_over_redis(
    judge: Judge,
    private_redis: RedisServer,  # noqa: F811
    s3_server: S3Server,  # noqa: F811
    bucket: str,
    quick_retries: None,
) -> None:
    client = private_redis.client()
    job = a_job(102, "packages/no/such-package.tar.gz")
    with (
        FlakyFront(s3_server.url, 0) as front,
        capture_logs() as logged,
        serving(private_redis.url, job_runner(judge, store_behind(front, bucket))),
    ):
        client.xadd(job_stream(job), {"job": json.dumps(job)})
        done = wait_done(client, job["submission"])
        # Three redelivery delays later, still one result: it was acked, not retried.
        time.sleep(3.0)
        dones = done_events(client, job["submission"])
    assert done["result"]["verdict"] == "IE"
    assert done["result"]["message"] == "the judge failed on this submission; it was not your fault"
    assert len(dones) == 1, dones
    assert pending(client, job) == 0
    assert len([e for e in logged if e["event"] == "judge job failed"]) == 1
    assert not [e for e in logged if "blob store is unavailable" in e["event"]]


# -- the embedded default: LocalQueue's judge processes, the in-process queue -------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[jobs.Event] = []

    async def on_event(self, events: list[jobs.Event]) -> None:
        self.events.extend(events)

    async def on_lost(self) -> None:
        pass

    async def done(self, submission: int) -> jobs.DoneEvent:
        deadline = time.monotonic() + WAIT
        while True:
            for event in self.events:
                if event["submission"] == submission and event["type"] == "done":
                    return event
            assert time.monotonic() < deadline, "the job was never finished"
            await asyncio.sleep(0.1)


def test_a_local_judge_process_gives_the_job_back_until_the_bucket_answers(
    s3_server: S3Server,  # noqa: F811
    bucket: str,
    package_key: str,
    monkeypatch: pytest.MonkeyPatch,
    requests_per_get: int,
) -> None:
    """The judge process runs with the real waits (FETCH_RETRY_SECONDS); the queue, in
    this process, puts the job back after a short pause."""
    monkeypatch.setattr(queue_module, "GIVE_BACK_SECONDS", 0.2)
    failures = requests_per_delivery(requests_per_get) + 1

    async def scenario(front: FlakyFront) -> tuple[jobs.DoneEvent, list[jobs.Event]]:
        env = {"S3_ENDPOINT": front.url, "S3_ACCESS_KEY_ID": KEY_ID, "S3_BUCKET": bucket,
               "S3_SECRET_ACCESS_KEY": SECRET, "S3_REGION": REGION}  # fmt: skip
        queue, recorder = LocalQueue(env, 1), Recorder()
        await queue.start(recorder.on_event, recorder.on_lost)
        try:
            await queue.enqueue(a_job(201, package_key))
            done = await recorder.done(201)
            backlog = await queue.backlog()
        finally:
            await queue.stop()
        assert backlog["python"].taken == 0 and backlog["python"].depth == 0
        return done, recorder.events

    with FlakyFront(s3_server.url, failures) as front, capture_logs() as logged:
        done, events = asyncio.run(scenario(front))
    assert done["result"]["verdict"] == "AC", done
    assert front.refused == failures
    assert [e["type"] for e in events].count("started") == 1  # none from the given-back try
    requeued = [
        e for e in logged if e["event"] == "the blob store is unavailable; the job is queued again"
    ]
    assert [e["tries"] for e in requeued] == [1], requeued


class AwayStore:
    """A store whose bucket never answers, as S3BlobStore says so (a transient S3Error),
    at once: a real bucket's botocore backoff would make this bound's test minutes long."""

    def __init__(self) -> None:
        self.gets = 0

    def get(self, key: str) -> bytes:
        """Only what PackageCache asks of a store."""
        self.gets += 1
        raise S3Error("S3 GET on bucket 'away' failed: ServiceUnavailable", transient=True)


def test_a_bucket_that_stays_away_ends_the_job_as_one_internal_error(
    judge: Judge,
    quick_retries: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bound: MAX_DELIVERIES tries, then an IE (in process: the same `_give_back` as
    the local judge processes')."""
    monkeypatch.setattr(queue_module, "GIVE_BACK_SECONDS", 0.05)
    store = AwayStore()

    async def scenario() -> list[jobs.Event]:
        runner_here = JobRunner(judge, PackageCache(store, judge.sandbox.root / "unused"))
        queue, recorder = InProcessQueue(lambda: runner_here, 1), Recorder()
        await queue.start(recorder.on_event, recorder.on_lost)
        try:
            await queue.enqueue(a_job(301, "packages/ab/away.tar.gz"))
            await recorder.done(301)
            await asyncio.sleep(0.3)  # several give-back pauses: nothing more comes
        finally:
            await queue.stop()
        return recorder.events

    with capture_logs() as logged:
        events = asyncio.run(scenario())
    assert store.gets == MAX_DELIVERIES * (len(runner.FETCH_RETRY_SECONDS) + 1)
    assert [e["type"] for e in events] == ["done"]
    done = events[0]
    assert done["type"] == "done" and done["result"]["verdict"] == "IE"
    requeued = [
        e["tries"]
        for e in logged
        if e["event"] == "the blob store is unavailable; the job is queued again"
    ]
    assert requeued == list(range(1, MAX_DELIVERIES))
    assert [e["tries"] for e in logged if e["event"].startswith("the blob store stayed")] == [
        MAX_DELIVERIES
    ]
