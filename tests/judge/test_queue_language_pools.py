"""Per-language worker pools (issue 16): one Redis jobs stream per language and level, so a
`codebattle worker --languages python` takes only Python jobs, most urgent first, and a C++
job waits, queued and counted in `backlog()`, for a C++ worker; jobs an older version queued
on its per-level streams are moved to their language's stream and judged by the right pool;
a worker refuses a language that is unknown or whose toolchain the host lacks; the
heartbeat carries the pool's image (old heartbeats still read); every queue reports its
backlog per language. Each Redis test has its own redis-server (private_redis)."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
from typer.testing import CliRunner

from codebattle import cli
from codebattle.config import Settings
from codebattle.judge import jobs
from codebattle.judge import worker as worker_module
from codebattle.judge.languages import LANGUAGES
from codebattle.judge.queue import (
    WORKERS_GROUP,
    Backlog,
    InProcessQueue,
    RedisQueue,
    parse_beat,
    pool_languages,
    worker_beat,
)
from codebattle.judge.runner import JobRunner
from codebattle.judge.streams import JOBS_STREAM, LEGACY_STREAMS, job_stream, stream_of
from codebattle.judge.worker import Worker
from tests.judge.test_priorities import OrderRunner, pending
from tests.judge.test_redis_queue_recovery import Recorder, eventually
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

WAIT = 15.0
MATCH, RUN, ROOM, PRACTICE = jobs.MATCH, jobs.RUN, jobs.ROOM, jobs.PRACTICE


@pytest.fixture(autouse=True)
def every_toolchain(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is tested here is routing, not this host's toolchains: all of them are found,
    unless a test takes one away (`without`)."""
    paths = {language.version_argv[0] for language in LANGUAGES.values()}
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: cmd if cmd in paths else real(cmd))


def without(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    """This host lacks the language's toolchain."""
    missing = LANGUAGES[language].version_argv[0]
    found = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda cmd, *a, **k: None if cmd == missing else found(cmd)
    )


def job(submission: int, level: int | None, language: str = "python") -> jobs.Job:
    made: jobs.Job = {
        "submission": submission, "kind": "submit", "language": language, "code": "",
        "package_key": "none", "time_limit": 1.0, "stdin": "", "run_all": False,
    }  # fmt: skip
    if level is not None:
        made["priority"] = level
    return made


def enqueue(url: str, *queued: jobs.Job) -> None:
    """As a started API instance enqueues them (its groups made on every language's
    streams), in this order."""

    async def send() -> None:
        queue = RedisQueue(url, 2.0)
        try:
            await queue._ensure_groups()
            for each in queued:
                await queue.enqueue(each)
        finally:
            await queue.client.aclose()

    asyncio.run(send())


def pool(url: str, *languages: str, levels: tuple[int, ...] = jobs.LEVELS) -> Worker:
    """A worker of these languages whose runner judges at once (noting the order)."""
    runner = OrderRunner()
    runner.gate.set()
    made = Worker(url, cast(JobRunner, runner), 2.0, levels=levels, languages=languages)
    made.ensure_group()
    return made


def judged(worker: Worker) -> list[int]:
    return cast(OrderRunner, worker.runner).order


def take_all(worker: Worker) -> None:
    """Take and judge jobs until the worker finds none (one empty look: a short wait)."""
    deadline = time.monotonic() + WAIT
    while (message := worker.next_job()) is not None:
        assert time.monotonic() < deadline
        worker.handle(*message)


def backlog_of(url: str, now: float | None = None) -> dict[str, Backlog]:
    async def read() -> dict[str, Backlog]:
        queue = RedisQueue(url, 2.0)
        try:
            return await queue.backlog(now)
        finally:
            await queue.client.aclose()

    return asyncio.run(read())


def first_id_seconds(client: Any, stream: str) -> float:
    ((message_id, _fields),) = client.xrange(stream, count=1)
    return int(message_id.split(b"-")[0]) / 1000


# -- Redis: pools --------------------------------------------------------------------------


def test_a_python_worker_never_takes_a_cpp_job_which_waits_for_a_cpp_worker(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    python = pool(private_redis.url, "python")
    enqueue(private_redis.url, job(1, MATCH, "cpp"), job(2, PRACTICE), job(3, ROOM, "cpp"))
    take_all(python)
    assert judged(python) == [2]  # the C++ match job came first, and was left alone
    client = private_redis.client()
    assert pending(client, stream_of("cpp", MATCH)) == 0  # not taken (then lost) either
    waiting = backlog_of(private_redis.url)
    assert (waiting["cpp"].depth, waiting["cpp"].taken) == (2, 0)
    assert waiting["python"] == Backlog(0, 0, 0.0)
    cpp = pool(private_redis.url, "cpp")
    take_all(cpp)
    assert judged(cpp) == [1, 3]  # the match first
    assert backlog_of(private_redis.url)["cpp"] == Backlog(0, 0, 0.0)
    assert python.streams == tuple(stream_of("python", level) for level in jobs.LEVELS)
    client.close()


def test_priorities_stay_strict_within_a_language(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    python = pool(private_redis.url, "python")
    enqueue(
        private_redis.url,
        *[job(s, PRACTICE) for s in (1, 2)],
        job(3, ROOM), job(4, MATCH, "java"), job(5, RUN), job(6, ROOM), job(7, MATCH),
    )  # fmt: skip
    take_all(python)
    assert judged(python) == [7, 5, 3, 6, 1, 2]
    assert backlog_of(private_redis.url)["java"].depth == 1


def test_a_worker_of_several_languages_takes_a_level_s_oldest_job_first(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    both = pool(private_redis.url, "cpp", "python")
    for each in (
        job(1, PRACTICE, "python"),
        job(2, PRACTICE, "cpp"),
        job(3, PRACTICE, "python"),
        job(4, ROOM, "python"),
        job(5, ROOM, "cpp"),
    ):
        enqueue(private_redis.url, each)
        time.sleep(0.002)  # across streams, ids (Redis's clock) order to the millisecond
    take_all(both)
    assert judged(both) == [4, 5, 1, 2, 3]  # by level, then by arrival across languages


def test_a_dead_python_worker_s_job_goes_to_a_python_worker_only(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    dead = pool(private_redis.url, "python")
    enqueue(private_redis.url, job(1, MATCH))
    taken = dead.next_job()
    assert taken is not None and taken[0] == stream_of("python", MATCH)
    client = private_redis.client()
    client.xclaim(taken[0], WORKERS_GROUP, dead.consumer, 0, [taken[1]],
                  idle=60_000, justid=True)  # fmt: skip
    assert backlog_of(private_redis.url)["python"].taken == 1
    cpp = pool(private_redis.url, "cpp")
    take_all(cpp)
    assert judged(cpp) == []
    python = pool(private_redis.url, "python")
    take_all(python)
    assert judged(python) == [1]
    assert pending(client, taken[0]) == 0
    client.close()


# -- Redis: jobs an older version queued ---------------------------------------------------


def old_version_queues(client: Any, *queued: jobs.Job) -> None:
    """As the per-level version did: its streams and groups, each job on its level's."""
    for stream in LEGACY_STREAMS:
        client.xgroup_create(stream, WORKERS_GROUP, id="0", mkstream=True)
    for each in queued:
        client.xadd(LEGACY_STREAMS[jobs.priority(each)], {"job": json.dumps(each)})


def test_jobs_in_the_old_streams_are_judged_each_by_its_language_s_pool(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    client = private_redis.client()
    old_version_queues(client, job(1, None, "cpp"), job(2, None), job(3, MATCH, "cpp"),
                       job(4, RUN))  # fmt: skip
    python = pool(private_redis.url, "python")
    take_all(python)
    assert judged(python) == [4, 2]
    # The C++ jobs were moved, not taken: in the C++ streams, old streams all acked.
    assert all(pending(client, stream) == 0 for stream in LEGACY_STREAMS)
    assert client.xlen(stream_of("cpp", MATCH)) == client.xlen(stream_of("cpp", PRACTICE)) == 1
    assert backlog_of(private_redis.url)["cpp"].depth == 2
    cpp = pool(private_redis.url, "cpp")
    take_all(cpp)
    assert judged(cpp) == [3, 1]
    assert client.xlen(JOBS_STREAM) == 2  # (acked, kept: the stream is capped as before)
    client.close()


def test_an_old_job_whose_mover_died_is_moved_by_another(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    client = private_redis.client()
    old_version_queues(client, job(1, None, "java"))
    # A worker read it and died before moving it: pending on the old stream, long idle.
    client.xreadgroup(WORKERS_GROUP, "worker-gone-1", {JOBS_STREAM: ">"}, count=1)
    ((message_id, _fields),) = client.xrange(JOBS_STREAM)
    client.xclaim(JOBS_STREAM, WORKERS_GROUP, "worker-gone-1", 0, [message_id],
                  idle=60_000, justid=True)  # fmt: skip
    python = pool(private_redis.url, "python")
    take_all(python)
    assert judged(python) == [] and pending(client, JOBS_STREAM) == 0
    assert backlog_of(private_redis.url)["java"].depth == 1
    client.close()


async def test_a_serving_python_worker_drains_old_streams_as_they_fill(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """An older API instance still queueing (a rolling upgrade): the waiting worker wakes
    on the old stream too, moves the job, and judges it if it is its language's."""
    client = private_redis.client()
    old_version_queues(client)
    python = pool(private_redis.url, "python")
    queue, recorder = RedisQueue(private_redis.url, 2.0), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    thread = threading.Thread(target=python.serve, daemon=True)
    thread.start()
    try:
        await asyncio.sleep(0.2)  # waiting
        client.xadd(JOBS_STREAM, {"job": json.dumps(job(1, None))})
        client.xadd(JOBS_STREAM, {"job": json.dumps(job(2, None, "cpp"))})
        await eventually(lambda: recorder.done(1), "the old Python job judged")
        await eventually(lambda: client.xlen(stream_of("cpp", PRACTICE)) == 1, "C++ moved")
        assert judged(python) == [1]
    finally:
        python.stopping.set()
        await asyncio.to_thread(thread.join, WAIT)
        await queue.stop()
        client.close()
    assert not thread.is_alive()


# -- refused languages ---------------------------------------------------------------------


def test_a_worker_of_an_unknown_language_or_a_missing_toolchain_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = cast(JobRunner, OrderRunner())
    with pytest.raises(ValueError, match="unknown language 'cobol'"):
        Worker("redis://127.0.0.1:1/0", runner, 2.0, languages=("python", "cobol"))
    with pytest.raises(ValueError, match="no language"):
        Worker("redis://127.0.0.1:1/0", runner, 2.0, languages=())
    without(monkeypatch, "java")
    with pytest.raises(ValueError, match="java: its toolchain is not on this host"):
        pool_languages(("python", "java"))
    assert pool_languages(("python", "cpp", "python")) == ("cpp", "python")  # registry order


def no_worker_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`codebattle worker` up to the Worker it would run: what it was made with."""
    made: list[dict[str, Any]] = []

    class Made:
        def __init__(self, url: str, runner: object, redelivery: float, levels: tuple[int, ...],
                     languages: tuple[str, ...], image: str) -> None:  # fmt: skip
            made.append({"levels": levels, "languages": languages, "image": image})

        def run(self) -> None:
            pass

    monkeypatch.setattr(worker_module, "Worker", Made)
    monkeypatch.setattr(cli, "_checked_blobs", lambda settings: None)
    # A runner with nothing to judge with: none is judged (and no prebuilt is made).
    nothing = JobRunner(cast(Any, None), cast(Any, None))
    monkeypatch.setattr(JobRunner, "on_this_host", staticmethod(lambda blobs: nothing))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # never reached
    for name in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return made


@pytest.mark.parametrize(
    ("args", "languages", "image"),
    [
        (["--languages", "python"], ("python",), "registry.example/judge-py:1"),
        (["--languages", " cpp, ,python "], ("cpp", "python"), ""),  # mixed: no one image
        (["--languages", "java", "--urgent"], ("java",), "registry.example/judge-java:1"),
        (["--languages", "pypy,python"], ("pypy", "python"), "registry.example/judge-py:1"),
    ],
)
def test_codebattle_worker_languages_and_its_image(
    monkeypatch: pytest.MonkeyPatch, args: list[str], languages: tuple[str, ...], image: str
) -> None:
    made = no_worker_run(monkeypatch)
    monkeypatch.setenv("SANDBOX_DOCKER_IMAGE_PY", "registry.example/judge-py:1")
    monkeypatch.setenv("SANDBOX_DOCKER_IMAGE_JAVA", "registry.example/judge-java:1")
    monkeypatch.delenv("SANDBOX_DOCKER_IMAGE_CPP", raising=False)
    result = CliRunner().invoke(cli.app, ["worker", *args])
    assert result.exit_code == 0, result.output
    assert [(m["languages"], m["image"]) for m in made] == [(languages, image)]
    assert made[0]["levels"] == (jobs.URGENT if "--urgent" in args else jobs.LEVELS)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("cobol", "--languages: unknown language 'cobol' (known: cpp, java, pypy, python)"),
        (" , ", "--languages: no language to judge"),
        ("java", "--languages: java: its toolchain is not on this host"),
    ],
)
def test_codebattle_worker_refuses_a_language_it_cannot_judge(
    monkeypatch: pytest.MonkeyPatch, value: str, error: str
) -> None:
    made = no_worker_run(monkeypatch)
    without(monkeypatch, "java")
    result = CliRunner().invoke(cli.app, ["worker", "--languages", value])
    assert result.exit_code == 2 and made == []
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(f"error: {error}")


def test_a_worker_with_no_language_option_serves_what_the_host_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = no_worker_run(monkeypatch)
    assert CliRunner().invoke(cli.app, ["worker"]).exit_code == 0
    assert made[0]["languages"] == tuple(n for n, lang in LANGUAGES.items() if lang.available())


def test_a_host_without_any_toolchain_runs_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    made = no_worker_run(monkeypatch)
    for language in LANGUAGES:
        without(monkeypatch, language)
    result = CliRunner().invoke(cli.app, ["worker"])
    assert result.exit_code == 2 and made == []
    assert "error: no language to judge (none given, or no toolchain on this host)" in result.output


def test_the_image_of_a_pool(tmp_path: Path) -> None:
    settings = Settings(
        DATA_DIR=tmp_path, SANDBOX_DOCKER_IMAGE_PY="py:1", SANDBOX_DOCKER_IMAGE_CPP="cpp:1"
    )
    assert cli.pool_image(settings, ("cpp",)) == "cpp:1"
    assert cli.pool_image(settings, ("pypy", "python")) == "py:1"
    assert cli.pool_image(settings, ("java",)) == ""  # not set
    assert cli.pool_image(settings, ("cpp", "python")) == ""  # two pools' images


# -- heartbeat -----------------------------------------------------------------------------


def test_the_heartbeat_carries_the_image_and_old_beats_still_read() -> None:
    beat = worker_beat(("cpp",), 100.0, 110.0, "registry.example/judge-cpp:1")
    info = parse_beat("w1", beat, 111.0)
    assert info is not None and info.image == "registry.example/judge-cpp:1"
    assert info.languages == ("cpp",) and info.alive
    old = json.dumps({"languages": ["python"], "started_at": 100.0, "seen_at": 110.0})
    older = parse_beat("w0", old.encode(), 111.0)
    assert older is not None and older.image == "" and older.languages == ("python",)
    assert parse_beat("w2", "[]", 111.0) is None


async def test_the_fleet_shows_each_worker_s_image(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    runner = cast(JobRunner, OrderRunner())
    made = Worker(private_redis.url, runner, 2.0, languages=("cpp",), image="cpp:7")
    await asyncio.to_thread(made.beat)
    queue = RedisQueue(private_redis.url, 2.0)
    try:
        (info,) = await queue.fleet()
        assert (info.name, info.languages, info.image) == (made.name, ("cpp",), "cpp:7")
    finally:
        await queue.client.aclose()


# -- backlog -------------------------------------------------------------------------------


async def test_backlog_in_process() -> None:
    runner = OrderRunner()
    queue, recorder = InProcessQueue(lambda: cast(JobRunner, runner), 1), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    try:
        assert set(await queue.backlog()) == set(LANGUAGES)
        assert all(b == Backlog(0, 0, 0.0) for b in (await queue.backlog()).values())
        before = time.time()
        await queue.enqueue(job(1, PRACTICE))  # taken: the worker waits on the gate
        await eventually(runner.started.is_set, "the first job is being judged")
        for each in (job(2, PRACTICE, "cpp"), job(3, MATCH, "cpp"), job(4, ROOM)):
            await queue.enqueue(each)
        after = time.time()
        found = await queue.backlog(now=after + 60)
        assert (found["python"].depth, found["python"].taken) == (1, 1)
        assert (found["cpp"].depth, found["cpp"].taken) == (2, 0)
        assert 60 <= found["cpp"].oldest_seconds <= after + 60 - before
        assert found["java"] == Backlog(0, 0, 0.0)
        runner.gate.set()
        await eventually(lambda: all(recorder.done(s) for s in (1, 2, 3, 4)), "all judged")
        assert all(b == Backlog(0, 0, 0.0) for b in (await queue.backlog()).values())
    finally:
        runner.gate.set()
        await queue.stop()


async def test_backlog_on_redis(private_redis: RedisServer) -> None:  # noqa: F811
    queue, recorder = RedisQueue(private_redis.url, 2.0), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    client = private_redis.client()
    try:
        assert await queue.backlog() == {name: Backlog(0, 0, 0.0) for name in LANGUAGES}
        for each in (job(1, PRACTICE), job(2, PRACTICE), job(3, MATCH), job(4, ROOM, "java")):
            await queue.enqueue(each)
        taker = Worker(private_redis.url, cast(JobRunner, OrderRunner()), 30.0,
                       languages=("python",))  # fmt: skip
        taken = await asyncio.to_thread(taker.next_job)  # the match job, not acked
        assert taken is not None and taken[0] == stream_of("python", MATCH)
        oldest_python = first_id_seconds(client, stream_of("python", PRACTICE))
        found = await queue.backlog(now=oldest_python + 30)
        assert (found["python"].depth, found["python"].taken) == (2, 1)
        assert found["python"].oldest_seconds == pytest.approx(30.0)
        java_at = first_id_seconds(client, stream_of("java", ROOM))
        assert (found["java"].depth, found["java"].taken) == (1, 0)
        assert found["java"].oldest_seconds == pytest.approx(oldest_python + 30 - java_at)
        assert found["cpp"] == Backlog(0, 0, 0.0)
        # Redis lost its data; a job queued since, on a stream without its group yet: every
        # entry counts (the group is recreated from the start). Old streams are not read.
        client.flushall()
        client.xadd(stream_of("cpp", RUN), {"job": json.dumps(job(5, RUN, "cpp"))})
        client.xadd(stream_of("cpp", RUN), {"job": json.dumps(job(6, RUN, "cpp"))})
        client.xadd(JOBS_STREAM, {"job": json.dumps(job(7, None))})
        found = await queue.backlog()
        assert (found["cpp"].depth, found["cpp"].taken) == (2, 0)
        assert found["python"] == Backlog(0, 0, 0.0)
    finally:
        await queue.stop()
        client.close()


def test_job_streams_are_per_language_and_level() -> None:
    assert job_stream(job(1, MATCH, "cpp")) == "codebattle:jobs:cpp:0"
    assert job_stream(job(1, None)) == "codebattle:jobs:python:3"
    assert set(LEGACY_STREAMS) == {f"{JOBS_STREAM}:{n}" for n in (0, 1, 2)} | {JOBS_STREAM}
