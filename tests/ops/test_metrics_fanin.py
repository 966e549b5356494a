"""ops/metrics_fanin.py, as deploy/worker-start.sh runs it: a real process serving on
METRICS_PORT the metrics of two workers' ports (real WorkerMetrics served as a worker
serves them), each series labelled with its lane."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from codebattle.config import Settings, load_settings
from codebattle.ops import metrics_http
from codebattle.ops.worker_metrics import WorkerMetrics
from tests.support.hosts import require
from tests.support.servers import free_port

TOKEN = "fan-in-test-token-0123456789"


def settings(**values: object) -> Settings:
    return load_settings(serving=False, METRICS_TOKEN=TOKEN, **values)


@pytest.fixture
def workers() -> Iterator[tuple[WorkerMetrics, WorkerMetrics, int, int]]:
    """An urgent and a plain worker's metrics, each on a loopback port of its own."""
    urgent, plain = WorkerMetrics(), WorkerMetrics()
    servers: list[ThreadingHTTPServer] = []
    for counted in (urgent, plain):
        server = metrics_http.serve_on_port(
            settings(METRICS_PORT=free_port()), "127.0.0.1", counted.registry
        )
        assert server is not None
        servers.append(server)
    yield urgent, plain, servers[0].server_address[1], servers[1].server_address[1]
    for server in servers:
        server.shutdown()
        server.server_close()


def start_fan_in(
    tmp_path: Path, port: int, *lanes: str, host: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METRICS_")}
    env |= {"METRICS_PORT": str(port), "METRICS_TOKEN": TOKEN, "DATA_DIR": str(tmp_path)}
    argv = [sys.executable, "-m", "codebattle.ops.metrics_fanin", "--host", host]
    return subprocess.Popen([*argv, *lanes], env=env, cwd=tmp_path, stderr=subprocess.PIPE)


def scrape(port: int, token: str | None = TOKEN, address: str = "127.0.0.1") -> str:
    """The fan-in's exposition, once it listens (it imports the app first)."""
    request = urllib.request.Request(f"http://{address}:{port}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return str(response.read().decode())
        except urllib.error.HTTPError:
            raise
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_both_workers_on_one_port_told_apart_by_lane(
    tmp_path: Path, workers: tuple[WorkerMetrics, WorkerMetrics, int, int]
) -> None:
    urgent, plain, urgent_port, plain_port = workers
    urgent.judged.labels("cpp", "AC").inc(3)
    urgent.busy.set(1)
    plain.judged.labels("cpp", "AC").inc(2)  # the same series in each: kept apart
    plain.seconds.labels("python").observe(0.3)
    port = free_port()
    fan_in = start_fan_in(tmp_path, port, f"urgent={urgent_port}", f"all={plain_port}")
    try:
        seen = samples(scrape(port))
        judged = "codebattle_worker_jobs_judged_total"
        labels = {"language": "cpp", "verdict": "AC"}
        assert seen[(judged, frozenset({**labels, "lane": "urgent"}.items()))] == 3
        assert seen[(judged, frozenset({**labels, "lane": "all"}.items()))] == 2
        assert seen[("codebattle_worker_busy", frozenset({"lane": "urgent"}.items()))] == 1
        assert seen[("codebattle_worker_busy", frozenset({"lane": "all"}.items()))] == 0
        count = ("codebattle_worker_job_seconds_count", {"language": "python", "lane": "all"})
        assert seen[(count[0], frozenset(count[1].items()))] == 1
        for lane in ("urgent", "all"):
            assert seen[("codebattle_worker_scraped", frozenset({"lane": lane}.items()))] == 1
            cpu = ("process_cpu_seconds_total", frozenset({"lane": lane}.items()))
            assert cpu in seen
        # Read at each scrape: what a worker counts after is in the next one.
        plain.judged.labels("cpp", "WA").inc()
        wrong = frozenset({"language": "cpp", "verdict": "WA", "lane": "all"}.items())
        assert samples(scrape(port))[(judged, wrong)] == 1
    finally:
        fan_in.terminate()
        fan_in.wait(timeout=10)


def test_on_every_address_it_answers_over_ipv6_and_ipv4(
    tmp_path: Path, workers: tuple[WorkerMetrics, WorkerMetrics, int, int]
) -> None:
    """`--host ::`, as worker-start.sh runs it: Fly's private network (and its Prometheus)
    is IPv6; IPv4 (compose's network) is answered on the same socket."""
    _, _, urgent_port, plain_port = workers
    port = free_port()
    fan_in = start_fan_in(tmp_path, port, f"urgent={urgent_port}", f"all={plain_port}", host="::")
    try:
        for address in ("[::1]", "127.0.0.1"):
            seen = samples(scrape(port, address=address))
            scraped = ("codebattle_worker_scraped", frozenset({"lane": "urgent"}.items()))
            assert seen[scraped] == 1, address
    finally:
        fan_in.terminate()
        fan_in.wait(timeout=10)


# In a network namespace of its own whose default is IPv6-only sockets (bindv6only=1).
V6ONLY_CHILD = """
import socket
from codebattle.config import load_settings
from codebattle.ops import metrics_http
plain = socket.socket(socket.AF_INET6)
server = metrics_http.serve_on_port(load_settings(serving=False, METRICS_PORT=9091), "::")
print(plain.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY),
      server.socket.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY))
"""


def test_a_metrics_port_on_every_address_is_dual_stack_whatever_the_host_default(
    tmp_path: Path,
) -> None:
    """serve's and a worker's metrics port on `::` asks for IPv4 too: on a host whose
    sockets default to IPv6 only, it still answers IPv4 scrapes."""
    unshare = shutil.which("unshare")
    require(unshare is not None, "unshare (util-linux)")
    assert unshare is not None
    script = 'echo 1 > /proc/sys/net/ipv6/bindv6only && exec "$0" -c "$1"'
    env = {k: v for k, v in os.environ.items() if not k.startswith("METRICS_")}
    child = subprocess.run(
        [unshare, "--user", "--map-root-user", "--net", "sh", "-c", script, sys.executable,
         V6ONLY_CHILD], env=env | {"DATA_DIR": str(tmp_path)}, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # Python never started: the namespace could not be made here (no user namespaces).
    require(child.returncode == 0 or "Traceback" in child.stderr,
            f"a network namespace of one's own ({child.stderr.strip()})")  # fmt: skip
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["1", "0"]  # the namespace's default, the metrics port


def test_a_worker_that_does_not_answer_is_counted_as_not_scraped(
    tmp_path: Path, workers: tuple[WorkerMetrics, WorkerMetrics, int, int]
) -> None:
    urgent, _, urgent_port, _ = workers
    urgent.busy.set(1)
    port, gone = free_port(), free_port()  # nothing listens on `gone`
    fan_in = start_fan_in(tmp_path, port, f"urgent={urgent_port}", f"all={gone}")
    try:
        seen = samples(scrape(port))
        assert seen[("codebattle_worker_scraped", frozenset({"lane": "all"}.items()))] == 0
        assert seen[("codebattle_worker_scraped", frozenset({"lane": "urgent"}.items()))] == 1
        assert seen[("codebattle_worker_busy", frozenset({"lane": "urgent"}.items()))] == 1
        assert not any(dict(labels).get("lane") == "all" and name != "codebattle_worker_scraped"
                       for name, labels in seen)  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as refused:  # METRICS_TOKEN asked here too
            scrape(port, token=None)
        assert refused.value.code == 401
    finally:
        fan_in.terminate()
        fan_in.wait(timeout=10)


@pytest.mark.parametrize(
    ("lanes", "env", "message"),
    [
        (["urgent"], {}, "give LANE=PORT, e.g. urgent=9092"),
        (["urgent=99999"], {}, "give LANE=PORT"),
        (["urgent=9092"], {"METRICS_PORT": ""}, "METRICS_PORT is not set: nothing to serve"),
        (["urgent=9092"], {"METRICS_PORT": "nine"}, "error: configuration: METRICS_PORT"),
    ],
)
def test_bad_arguments_stop_it_with_one_line(
    tmp_path: Path, lanes: list[str], env: dict[str, str], message: str
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("METRICS_")}
    environment |= {"METRICS_PORT": str(free_port()), "DATA_DIR": str(tmp_path), **env}
    result = subprocess.run(
        [sys.executable, "-m", "codebattle.ops.metrics_fanin", *lanes],
        env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_port_stops_it_with_one_line(tmp_path: Path) -> None:
    taken = metrics_http.serve_on_port(settings(METRICS_PORT=free_port()), "127.0.0.1")
    assert taken is not None
    try:
        port = taken.server_address[1]
        fan_in = start_fan_in(tmp_path, port, "urgent=9092")
        _, stderr = fan_in.communicate(timeout=60)
        assert fan_in.returncode == 2
        assert f"error: METRICS_PORT: cannot listen on 127.0.0.1:{port}" in stderr.decode()
    finally:
        taken.shutdown()
        taken.server_close()
