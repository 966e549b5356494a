"""`codebattle worker`: judges jobs from Redis, sends events back. Needs REDIS_URL and the
blob storage, never the database.

Delivery is at-least-once. While judging, the worker re-claims its job every third of the
redelivery delay, so the job's idle time stays low; if the worker dies, the job goes idle and
the next worker that looks (XAUTOCLAIM) takes it over and judges it from the start.
"""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType
from typing import Any

import redis
import structlog

from codebattle.judge import jobs
from codebattle.judge.queue import (
    JOBS_STREAM,
    MAX_DELIVERIES,
    RESULTS_STREAM,
    STREAM_MAXLEN,
    WORKERS_GROUP,
    consumer_name,
)
from codebattle.judge.runner import JobRunner

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, url: str, runner: JobRunner, redelivery_seconds: float) -> None:
        self.client = redis.Redis.from_url(url)
        self.runner = runner
        self.redelivery_ms = int(redelivery_seconds * 1000)
        self.consumer = consumer_name("worker")
        self.stopping = threading.Event()

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(JOBS_STREAM, WORKERS_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self) -> None:
        self.ensure_group()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        log.info("worker ready", consumer=self.consumer)
        while not self.stopping.is_set():
            try:
                message = self.next_job()
                if message is not None:
                    self.handle(*message)
            except redis.ConnectionError:
                log.warning("Redis unreachable; retrying")
                self.stopping.wait(1)

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def next_job(self) -> tuple[bytes, dict[bytes, bytes]] | None:
        claimed: Any = self.client.xautoclaim(
            JOBS_STREAM, WORKERS_GROUP, self.consumer, self.redelivery_ms, "0-0", count=1
        )
        messages = [m for m in claimed[1] if m[1]] if claimed else []
        if messages:
            log.info("job taken over from a dead worker", message=messages[0][0])
            return (messages[0][0], messages[0][1])
        reply: Any = self.client.xreadgroup(
            WORKERS_GROUP, self.consumer, {JOBS_STREAM: ">"}, count=1, block=1000
        )
        for _stream, batch in reply or []:
            for message in batch:
                return (message[0], message[1])
        return None

    def deliveries(self, message_id: bytes) -> int:
        pending: Any = self.client.xpending_range(
            JOBS_STREAM, WORKERS_GROUP, min=message_id, max=message_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    def handle(self, message_id: bytes, fields: dict[bytes, bytes]) -> None:
        job: jobs.Job = json.loads(fields[b"job"])
        if self.deliveries(message_id) > MAX_DELIVERIES:
            self.send(jobs.failed(job, "judging failed repeatedly; it was not your fault"))
        else:
            beating = threading.Event()
            heart = threading.Thread(target=self._heartbeat, args=(message_id, beating))
            heart.start()
            try:
                self.runner.execute(job, self.send)
            finally:
                beating.set()
                heart.join()
        self.client.xack(JOBS_STREAM, WORKERS_GROUP, message_id)

    def _heartbeat(self, message_id: bytes, done: threading.Event) -> None:
        while not done.wait(self.redelivery_ms / 3000):
            try:
                self.client.xclaim(
                    JOBS_STREAM, WORKERS_GROUP, self.consumer, 0, [message_id], justid=True
                )
            except redis.ConnectionError:
                log.warning("heartbeat failed")

    def send(self, event: jobs.Event) -> None:
        self.client.xadd(
            RESULTS_STREAM, {"event": json.dumps(event)}, maxlen=STREAM_MAXLEN, approximate=True
        )
