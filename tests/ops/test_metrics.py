"""Prometheus metrics (ops/metrics.py, ops/metrics_http.py, ops/worker_metrics.py): who may
read /metrics (token, port, production), what each action leaves in them (a request under
its route's template, a judged submission's verdict and latency, queued jobs without a
worker, an open socket, a worker's job), and a real Prometheus scraping a real server with
its bearer token."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.judge import jobs
from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.queue import InProcessQueue
from codebattle.judge.runner import JobRunner
from codebattle.ops import metrics, metrics_http
from codebattle.ops.worker_metrics import MeteredRunner, WorkerMetrics
from codebattle.rooms.models import Room
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from tests.support.chaos import client as api_client
from tests.support.chaos import hello_site
from tests.support.factories import make_match, make_problem_version, make_room, make_user
from tests.support.hosts import require
from tests.support.packages import make_package
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.servers import CODEBATTLE, Server, Site, free_port
from tests.support.site import runner_factory, settings_for, sign_in

TOKEN = "metrics-" + "t0ken-for-tests"
PROMETHEUS = "/usr/bin/prometheus"
SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by name and labels (parsed as Prometheus would)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


def _settings(tmp_path: Path, sqlite_url: str, **overrides: Any) -> Settings:
    return settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""), **overrides)


# ---- Who may read them


def test_a_token_is_asked_for_and_compared(tmp_path: Path, sqlite_url: str) -> None:
    client = TestClient(create_app(_settings(tmp_path, sqlite_url, METRICS_TOKEN=TOKEN)))
    wrong = ("Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer", f"bearer{TOKEN}")
    for headers in ({}, *({"Authorization": header} for header in wrong)):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in refused.text and "codebattle_" not in refused.text
    korean = client.get("/metrics", headers={"Accept-Language": "ko"})
    assert korean.status_code == 401 and "토큰" in korean.text
    taken = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert taken.status_code == 200
    assert taken.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE codebattle_http_request_duration_seconds histogram" in taken.text
    # Prometheus asks for OpenMetrics first, and gets it.
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": accept}
    open_metrics = client.get("/metrics", headers=headers)
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.endswith("# EOF\n")


def test_production_serves_them_only_behind_a_token_or_a_port(
    tmp_path: Path, sqlite_url: str
) -> None:
    production = {"ENVIRONMENT": "production", "SECRET_KEY": secrets.token_urlsafe(48),
                  "BASE_URL": "https://codebattle.example"}  # fmt: skip
    hidden = TestClient(create_app(_settings(tmp_path, sqlite_url, **production)))
    assert hidden.get("/metrics").status_code == 404
    preview = {**production, "ENVIRONMENT": "preview"}  # public too
    assert not metrics_http.exposed(_settings(tmp_path, sqlite_url, **preview))
    behind = _settings(tmp_path, sqlite_url, METRICS_TOKEN=TOKEN, **production)
    assert TestClient(create_app(behind)).get("/metrics").status_code == 401
    on_a_port = _settings(tmp_path, sqlite_url, METRICS_PORT=free_port(), **production)
    assert metrics_http.exposed(on_a_port) and not metrics_http.served_in_app(on_a_port)
    assert TestClient(create_app(on_a_port)).get("/metrics").status_code == 404
    # Outside production, without either: open, on the app.
    assert TestClient(create_app(_settings(tmp_path, sqlite_url))).get("/metrics").is_success


def test_a_port_of_their_own_asks_for_the_token_too(tmp_path: Path, sqlite_url: str) -> None:
    settings = _settings(tmp_path, sqlite_url, METRICS_PORT=free_port(), METRICS_TOKEN=TOKEN)
    server = metrics_http.serve_on_port(settings, "127.0.0.1")
    assert server is not None
    try:
        url = f"http://127.0.0.1:{settings.METRICS_PORT}"
        assert _status(url + "/metrics") == 401
        assert _status(url + "/metrics", "wrong") == 401
        assert _status(url + "/other", TOKEN) == 404
        body = _get(url + "/metrics", TOKEN)
        assert "# TYPE codebattle_queue_depth gauge" in body
    finally:
        server.shutdown()
        server.server_close()
    assert metrics_http.serve_on_port(_settings(tmp_path, sqlite_url), "127.0.0.1") is None


def test_a_port_of_their_own_on_ipv6(tmp_path: Path, sqlite_url: str) -> None:
    """An IPv6 address is served too (private networks often are IPv6)."""
    settings = _settings(tmp_path, sqlite_url, METRICS_PORT=free_port())
    server = metrics_http.serve_on_port(settings, "::1")
    assert server is not None
    try:
        assert "codebattle_queue_depth" in _get(f"http://[::1]:{settings.METRICS_PORT}/metrics")
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:  # noqa: S310
        return str(r.read().decode())


def _status(url: str, token: str | None = None) -> int:
    try:
        _get(url, token)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


# ---- What each action leaves in them


def test_requests_are_labelled_by_their_route_template(tmp_path: Path, sqlite_url: str) -> None:
    client = TestClient(create_app(_settings(tmp_path, sqlite_url)))
    client.get("/api/submissions/987654")  # 401: not signed in
    client.get("/static/no-such-987654.css")
    client.get("/no/such/page/987654")
    client.get("/healthz")
    client.get("/metrics")
    text = client.get("/metrics").text
    count = "codebattle_http_request_duration_seconds_count"
    assert value(text, count, method="GET", route="/api/submissions/{submission_id}",
                 status="4xx")  # fmt: skip
    assert value(text, count, method="GET", route="/static", status="4xx")
    assert value(text, count, method="GET", route="unmatched", status="4xx")
    assert value(text, count, method="GET", route="/healthz", status="2xx")
    assert value(text, count, method="GET", route="/metrics", status="2xx")
    assert "987654" not in text  # no raw path, no id


def test_a_judged_submission_counts_its_verdict_and_latency(client: TestClient) -> None:
    before = client.get("/metrics").text
    csrf = sign_in(client)
    reply = client.post(
        "/api/submissions", json={"problem": "hello-battle", "language": "python",
                                  "code": SUM_PY}, headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    with client.websocket_connect(f"/ws/submissions/{reply.json()['id']}") as socket:
        during = client.get("/metrics").text
        while True:  # to the verdict: it is counted before it is published
            message = socket.receive_json()
            if message["type"] == "done" or (
                message["type"] == "snapshot" and message["submission"]["status"] == "done"
            ):
                break
    assert (value(during, "codebattle_sockets_open", kind="submission") or 0) >= 1
    after = client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert grew("codebattle_verdicts_total", language="python", verdict="AC") == 1
    assert grew("codebattle_judging_latency_seconds_count", language="python") == 1
    assert grew("codebattle_judging_latency_seconds_sum", language="python") > 0
    assert grew("codebattle_verdicts_total", language="python", verdict="IE") == 0


@pytest.fixture
def unjudged(app_settings: Settings, judge: Judge, judge_root: Path) -> Iterator[TestClient]:
    """An app whose queue has no worker: what is submitted waits."""
    factory = runner_factory(judge, app_settings, judge_root)
    services = Services.from_settings(app_settings, factory)
    services.queue = InProcessQueue(factory, 0, 0)
    with TestClient(create_app(app_settings, services)) as test_client:
        yield test_client


def test_queue_depth_and_age_show_jobs_waiting_without_a_worker(unjudged: TestClient) -> None:
    csrf = sign_in(unjudged)
    for language, code in (("python", SUM_PY), ("python", SUM_PY), ("cpp", "int main(){}\n")):
        reply = unjudged.post(
            "/api/submissions", json={"problem": "hello-battle", "language": language,
                                      "code": code}, headers={"X-CSRF-Token": csrf},
        )  # fmt: skip
        assert reply.status_code == 201, reply.text
    services: Services = unjudged.app.state.services  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while True:  # the outbox relay hands the jobs to the queue (at once, or within a second)
        unjudged.portal.call(metrics.sample, services)  # type: ignore[union-attr]
        text = unjudged.get("/metrics").text
        if value(text, "codebattle_queue_depth", language="python") == 2:
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    assert value(text, "codebattle_queue_depth", language="cpp") == 1
    assert value(text, "codebattle_queue_depth", language="java") == 0  # present, zero
    assert value(text, "codebattle_queue_taken", language="python") == 0
    assert (value(text, "codebattle_queue_oldest_job_age_seconds", language="python") or -1) >= 0
    assert value(text, "codebattle_judge_workers_alive", language="python") == 0
    assert value(text, "codebattle_live_games", kind="match") == 0


def test_a_part_that_cannot_be_read_is_left_out_and_counted(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(create_app(_settings(tmp_path, sqlite_url)))
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def unreachable(now: float | None = None) -> dict[str, Any]:
        raise ConnectionError("redis is away")

    async def once() -> None:
        await metrics.sample(services)
        monkeypatch.setattr(services.queue, "backlog", unreachable)
        await metrics.sample(services)

    failures = "codebattle_metrics_sample_failures_total"
    before = value(client.get("/metrics").text, failures, part="queue") or 0
    asyncio.run(once())  # the app is not started: no sampling task runs besides these
    text = client.get("/metrics").text
    assert value(text, failures, part="queue") == before + 1
    assert value(text, "codebattle_queue_depth", language="python") is None  # not stale
    assert value(text, "codebattle_live_games", kind="room") == 0  # the other parts read


async def test_live_games_count_matches_on_and_rooms_running(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        version = await make_problem_version(session, blobs)
        players = [await make_user(session) for _ in range(4)]
        counting_down = await make_match(session, version, players[:2])
        over = await make_match(session, version, players[2:])
        over.state = "finished"
        room = await make_room(session, players[0])
        await session.commit()
    here = SimpleNamespace(db=db, queue=InProcessQueue(lambda: None, 0, 0))  # no worker

    async def games() -> tuple[float | None, float | None]:
        await metrics.sample(here)  # type: ignore[arg-type]
        read = metrics.REGISTRY.get_sample_value
        return read("codebattle_live_games", {"kind": "match"}), read(
            "codebattle_live_games", {"kind": "room"}
        )

    assert counting_down.state == "countdown"
    assert await games() == (1, 0)  # the finished match and the open room are not on
    async with db.session() as session:
        (await session.get(Room, room.id)).state = "running"  # type: ignore[union-attr]
        await session.commit()
    assert await games() == (1, 1)


def test_a_request_that_crashed_counts_as_a_5xx() -> None:
    async def crash(request: Any) -> Any:
        raise RuntimeError("a bug")

    app = Starlette(routes=[Route("/crash/{thing_id}", crash)])
    app.add_middleware(metrics_http.RequestMetrics)
    labels = {"method": "GET", "route": "/crash/{thing_id}", "status": "5xx"}
    name = "codebattle_http_request_duration_seconds_count"
    before = metrics.REGISTRY.get_sample_value(name, labels) or 0
    reply = TestClient(app, raise_server_exceptions=False).get("/crash/77")
    assert reply.status_code == 500
    assert metrics.REGISTRY.get_sample_value(name, labels) == before + 1


class _Packages:
    def __init__(self, tmp_path: Path) -> None:
        self.package = load_package(make_package(tmp_path))

    def get(self, key: str) -> Any:
        if key == "missing":
            raise FileNotFoundError(key)
        return self.package


def test_a_worker_counts_its_jobs_and_is_busy_while_judging(judge: Judge, tmp_path: Path) -> None:
    counted = WorkerMetrics()
    runner = MeteredRunner(JobRunner(judge, _Packages(tmp_path)), counted)  # type: ignore[arg-type]
    busy: list[float | None] = []

    def emit(event: jobs.Event) -> None:
        busy.append(counted.registry.get_sample_value("codebattle_worker_busy"))

    job: jobs.Job = {"submission": 7, "kind": "submit", "language": "python", "code": SUM_PY,
                     "package_key": "k", "time_limit": 2.0, "stdin": "",
                     "run_all": False}  # fmt: skip
    runner.execute(job, emit)
    runner.execute({**job, "package_key": "missing"}, emit)  # type: ignore[typeddict-item]
    read = counted.registry.get_sample_value
    assert set(busy) == {1.0} and read("codebattle_worker_busy") == 0
    assert read("codebattle_worker_jobs_judged_total", {"language": "python", "verdict": "AC"}) == 1
    assert read("codebattle_worker_jobs_judged_total", {"language": "python", "verdict": "IE"}) == 1
    assert read("codebattle_worker_job_seconds_count", {"language": "python"}) == 2


def test_codebattle_worker_serves_its_metrics_on_its_port(
    tmp_path: Path,
    private_redis: RedisServer,  # noqa: F811
) -> None:
    with hello_site(tmp_path / "site", REDIS_URL=private_redis.url) as site:
        server = site.serve()
        port = free_port()
        log = (site.data / "worker.log").open("ab")
        worker = subprocess.Popen(
            [CODEBATTLE, "worker", "--metrics-host", "127.0.0.1"],
            env=site.environment(METRICS_PORT=str(port), METRICS_TOKEN=TOKEN),
            cwd=site.data, stdout=log, stderr=log,
        )  # fmt: skip
        site.processes.append(worker)
        token = site.token("alice")

        async def judged() -> dict[str, Any]:
            async with api_client(server, token) as api:
                reply = await api.post("/api/submissions", json={
                    "problem": "hello-battle", "language": "python", "code": SUM_PY})  # fmt: skip
                assert reply.status_code == 201, reply.text
                url = f"/api/submissions/{reply.json()['id']}"
                async with asyncio.timeout(120):
                    while (found := (await api.get(url)).json())["status"] != "done":
                        await asyncio.sleep(0.2)
                return dict(found)

        assert asyncio.run(judged())["verdict"] == "AC", (site.data / "worker.log").read_text()
        url = f"http://127.0.0.1:{port}/metrics"
        assert _status(url) == 401
        text = _get(url, TOKEN)
        assert value(text, "codebattle_worker_jobs_judged_total", language="python",
                     verdict="AC") == 1  # fmt: skip
        assert value(text, "codebattle_worker_job_seconds_count", language="python") == 1
        assert value(text, "codebattle_worker_busy") == 0
        assert value(text, "process_resident_memory_bytes")


# ---- A real server, scraped by a real Prometheus


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    """`codebattle serve` with its metrics on a port of their own, behind the token."""
    site = Site(tmp_path_factory.mktemp("metered"))
    port = free_port()
    try:
        server = site.serve(METRICS_PORT=str(port), METRICS_TOKEN=TOKEN,
                            JUDGE_WORKERS="1", JUDGE_URGENT_WORKERS="0")  # fmt: skip
        yield server, port
    finally:
        site.stop()


def test_a_real_server_serves_them_on_its_port_only(metered: tuple[Server, int]) -> None:
    server, port = metered
    assert _status(server.url + "/metrics", TOKEN) == 404  # not on the app
    assert _status(f"http://127.0.0.1:{port}/metrics") == 401
    _get(server.url + "/healthz")
    text = _get(f"http://127.0.0.1:{port}/metrics", TOKEN)
    assert value(text, "codebattle_http_request_duration_seconds_count", method="GET",
                 route="/healthz", status="2xx")  # fmt: skip
    assert value(text, "codebattle_judge_workers_alive", language="python") is not None


def test_a_real_prometheus_scrapes_them_with_the_token(
    metered: tuple[Server, int], tmp_path: Path
) -> None:
    require(
        os.access(PROMETHEUS, os.X_OK), f"Prometheus at {PROMETHEUS} (apt-get install prometheus)"
    )
    server, port = metered
    _get(server.url + "/healthz")
    web = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        + "".join(
            f"  - job_name: {job}\n"
            f"    authorization: {{type: Bearer, credentials: {token}}}\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
            for job, token in (("codebattle", TOKEN), ("wrong-token", "not-the-token"))
        )
    )
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{web}"],
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        api = f"http://127.0.0.1:{web}/api/v1/query?query="

        def query(promql: str) -> list[dict[str, Any]]:
            import json

            reply = json.loads(_get(api + urllib.parse.quote(promql)))
            assert reply["status"] == "success", reply
            return list(reply["data"]["result"])

        deadline = time.monotonic() + 60
        while not (found := _try(query, 'codebattle_queue_depth{language="python"}')):
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "prometheus.log").read_text()
            time.sleep(0.5)
        assert found[0]["value"][1] == "0"  # a real number of jobs: none waits
        healthz = query('codebattle_http_request_duration_seconds_count{route="/healthz"}')
        assert healthz and float(healthz[0]["value"][1]) >= 1
        while len(up := {r["metric"]["job"]: r["value"][1] for r in query("up")}) < 2:
            assert time.monotonic() < deadline, up
            time.sleep(0.5)
        assert up == {"codebattle": "1", "wrong-token": "0"}  # the token is what let it in
    finally:
        proc.terminate()
        proc.wait(20)


def _try(query: Any, promql: str) -> list[dict[str, Any]]:
    """A query's result, or [] while Prometheus is still starting."""
    try:
        return list(query(promql))
    except (urllib.error.URLError, ConnectionError):
        return []
