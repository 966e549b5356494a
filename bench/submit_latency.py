"""Submit-to-verdict latency of practice submissions through the HTTP API.

N submissions (default 50) are sent at once; each one's latency runs from the moment they
are all sent to its final verdict, received over the submission's WebSocket. The peer, in
the same run: the judge alone (`Judge.judge` in this process) judging the same kind of
submissions with the same parallelism (2 at a time, as the 2 workers do), all started at
once. The ratio platform / judge at p50 is the platform's cost: HTTP, database, queue,
pub/sub and the socket. Target (issue "platform"): at most 1.15 at p50.

Modes: `embedded`, the default (SQLite, in-process queue, JUDGE_WORKERS=2); `redis`,
PostgreSQL (on 127.0.0.1:5432, a fresh database) + Redis with two `codebattle worker`s; `s3`,
the deployed layout: as `redis`, with blobs in an S3 bucket (moto_server on loopback) and
each worker on a DATA_DIR of its own, so problem packages reach the workers only through
the bucket. Redis and moto_server are private servers the benchmark starts on free ports
(the shared Redis on 6379 is left alone).

    .venv/bin/python bench/submit_latency.py [-n 50] [--modes embedded,redis,s3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx
import websockets

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = "hello-battle"
CODEBATTLE = str(Path(sys.executable).parent / "codebattle")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def solution(tag: str) -> str:
    # A distinct comment per submission, so that none is served from the compile cache.
    return f"# {tag}\na, b = map(int, input().split())\nprint(a + b)\n"


def body(tag: str) -> dict[str, str]:
    return {"problem": PROBLEM, "language": "python", "code": solution(tag)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def judge_alone(n: int) -> list[float]:
    package = load_package(ROOT / "problems" / PROBLEM)
    judge = Judge()
    judge.judge(package, "python", solution("warm-up"))
    tag = uuid.uuid4().hex
    start = time.monotonic()

    def one(i: int) -> float:
        result = judge.judge(package, "python", solution(f"{tag}-{i}"))
        assert result.verdict == "AC", result.verdict
        return time.monotonic() - start

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(n)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    """A server process (and workers), with its own data folder."""

    def __init__(self, env: dict[str, str], workers: int, own_folders: bool = False) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="cb-bench-"))
        self.port = free_port()
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.data),
            "DATA_DIR": str(self.data / "var"),
            "SECRET_KEY": secrets.token_urlsafe(48),  # production refuses weak keys
            "ENVIRONMENT": "production",
            "SUBMISSIONS_PER_MINUTE": "100000",
            # Production needs https; the scheme only marks cookies Secure, and the
            # benchmark speaks tokens over plain http to 127.0.0.1.
            "BASE_URL": f"https://127.0.0.1:{self.port}",
            **env,
        }
        self.workers = workers
        self.own_folders = own_folders  # each worker a DATA_DIR of its own (blobs via S3)
        self.procs: list[subprocess.Popen[bytes]] = []

    def run(self, *args: str) -> str:
        return subprocess.run(
            [CODEBATTLE, *args], env=self.env, cwd=self.data, check=True, capture_output=True,
            text=True,
        ).stdout  # fmt: skip

    def start(self) -> str:
        self.run("problems", "import", str(ROOT / "problems" / PROBLEM))
        token = self.run("users", "token", "bench").strip()
        log = (self.data / "server.log").open("wb")
        self.procs.append(subprocess.Popen(
            [CODEBATTLE, "serve", "--port", str(self.port)], env=self.env, cwd=self.data,
            stdout=log, stderr=log, start_new_session=True,
        ))  # fmt: skip
        worker_env = {k: v for k, v in self.env.items() if k != "DATABASE_URL"}
        for number in range(self.workers):
            if self.own_folders:
                worker_env = {**worker_env, "DATA_DIR": str(self.data / f"worker-{number}")}
            self.procs.append(subprocess.Popen(
                [CODEBATTLE, "worker"], env=worker_env, cwd=self.data, stdout=log, stderr=log,
                start_new_session=True,
            ))  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=10).status_code == 200:
                    return token
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError((self.data / "server.log").read_text())

    def stop(self) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.data, ignore_errors=True)


async def through_api(port: int, token: str, n: int) -> tuple[list[float], list[float]]:
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    tag = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        warm = await client.post("/api/submissions", json=body("warm-up"))
        await wait(port, headers, warm.json()["id"], time.monotonic())
        start = time.monotonic()

        accepted: list[float] = []

        async def one(i: int) -> float:
            reply = await client.post("/api/submissions", json=body(f"{tag}-{i}"))
            reply.raise_for_status()
            accepted.append(time.monotonic() - start)
            return await wait(port, headers, reply.json()["id"], start)

        latencies = await asyncio.gather(*(one(i) for i in range(n)))
        print(
            f"  all {n} accepted (201) after {max(accepted) * 1000:.0f} ms; first verdict "
            f"after {min(latencies) * 1000:.0f} ms"
        )
        judge_times = []
        for sid in range(2, n + 2):
            data = (await client.get(f"/api/submissions/{sid}")).json()
            judge_times.append(float(data.get("judge_time", 0.0)))
    return list(latencies), judge_times


async def wait(port: int, headers: dict[str, str], sid: int, start: float) -> float:
    url = f"ws://127.0.0.1:{port}/ws/submissions/{sid}"
    async with websockets.connect(url, additional_headers=headers, max_size=1 << 22) as ws:
        async for raw in ws:
            message = json.loads(raw)
            submission = message.get("submission") or {}
            if message["type"] == "done" or submission.get("status") == "done":
                assert submission["verdict"] == "AC", submission
                return time.monotonic() - start
    raise RuntimeError(f"socket closed before submission {sid} was done")


TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> tuple[float, float]:
    """(own, children's) CPU seconds of a process; (0, 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    own = (int(fields[11]) + int(fields[12])) / TICK
    return own, (int(fields[13]) + int(fields[14])) / TICK


def services_cpu(names: tuple[str, ...] = ("postgres", "redis-server")) -> float:
    """CPU seconds of every process of these names (PostgreSQL and Redis servers) now."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                total += cpu_of(int(entry.name))[0]
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot."""
    values = [int(v) / TICK for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, idle


class CpuMeter:
    """CPU spent during a run by the API process, the workers (their own work, and the
    sandboxes they reaped) and the PostgreSQL and Redis servers."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.before = self.read()

    def read(self) -> dict[str, float]:
        api, *workers = self.site.procs
        # `codebattle` is a console script: its pid is the Python process itself.
        own = [cpu_of(proc.pid) for proc in workers]
        return {
            "API": cpu_of(api.pid)[0] + cpu_of(api.pid)[1],
            "workers": sum(o for o, _ in own),
            "sandboxes": sum(c for _, c in own),
            "PostgreSQL + Redis": services_cpu(),
            "S3 server": services_cpu(("moto_server",)),  # 0 outside the s3 mode
            "machine busy": machine_cpu()[0],
            "machine idle": machine_cpu()[1],
        }

    def report(self) -> None:
        after = self.read()
        spent = {k: after[k] - self.before[k] for k in after if k in self.before}
        print("  CPU during the run: " + ", ".join(f"{k} {v:.1f} s" for k, v in spent.items()))


def fresh_postgres() -> str:
    name = f"cb_bench_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(create())
    return name


def drop_postgres(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(drop())


def free_port_server(argv: list[str], ready: str) -> tuple[subprocess.Popen[bytes], int]:
    """A server process on a free loopback port (`{port}` in argv), once `ready` (a URL, or
    "redis") answers."""
    port = free_port()
    proc = subprocess.Popen(
        [a.format(port=port) for a in argv], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if ready == "redis":
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return proc, port
            elif httpx.get(ready.format(port=port), timeout=2).status_code < 500:
                return proc, port
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{argv[0]} did not start")


def private_redis() -> tuple[subprocess.Popen[bytes], str]:
    proc, port = free_port_server(
        ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"], "redis",
    )  # fmt: skip
    return proc, f"redis://127.0.0.1:{port}/0"


def private_s3() -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """moto_server with one bucket, as S3_* settings."""
    import boto3

    beside = Path(sys.executable).parent / "moto_server"
    moto = str(beside) if beside.exists() else shutil.which("moto_server") or "moto_server"
    proc, port = free_port_server(
        [moto, "-H", "127.0.0.1", "-p", "{port}"], "http://127.0.0.1:{port}/moto-api/"
    )
    env = {
        "S3_ENDPOINT": f"http://127.0.0.1:{port}", "S3_ACCESS_KEY_ID": "bench",
        "S3_SECRET_ACCESS_KEY": "bench-secret", "S3_BUCKET": "codebattle-bench",
        "S3_REGION": "us-east-1",
    }  # fmt: skip
    boto3.client(
        "s3", endpoint_url=env["S3_ENDPOINT"], aws_access_key_id="bench",
        aws_secret_access_key="bench-secret", region_name="us-east-1",
    ).create_bucket(Bucket=env["S3_BUCKET"])  # fmt: skip
    return proc, env


def report(label: str, latencies: list[float], peer: list[float]) -> tuple[float, float]:
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    q50, q95 = percentile(peer, 50), percentile(peer, 95)
    print(f"  {label:<20} p50 {p50 * 1000:8.0f} ms  p95 {p95 * 1000:8.0f} ms")
    print(f"  {'judge alone':<20} p50 {q50 * 1000:8.0f} ms  p95 {q95 * 1000:8.0f} ms")
    print(f"  {'ratio':<20} p50 {p50 / q50:8.2f}     p95 {p95 / q95:8.2f}")
    return p50 / q50, p95 / q95


def run_mode(mode: str, n: int) -> tuple[float, float]:
    env: dict[str, str] = {"JUDGE_WORKERS": "2"}
    workers, database = 0, None
    servers: list[subprocess.Popen[bytes]] = []
    if mode not in ("embedded", "redis", "s3"):
        raise SystemExit(f"unknown mode {mode!r}: embedded, redis or s3")
    if mode in ("redis", "s3"):
        database = fresh_postgres()
        redis_proc, redis_url = private_redis()  # a Redis of its own: nothing left from before
        servers.append(redis_proc)
        env = {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
               "REDIS_URL": redis_url}  # fmt: skip
        workers = 2
    if mode == "s3":
        s3_proc, s3_env = private_s3()
        servers.append(s3_proc)
        env |= s3_env
    site = Site(env, workers, own_folders=mode == "s3")
    try:
        token = site.start()
        peer = judge_alone(n)  # measured next to each run: the machine is noisy
        meter = CpuMeter(site)
        latencies, judge_times = asyncio.run(through_api(site.port, token, n))
        meter.report()
    finally:
        site.stop()
        for server in servers:
            server.kill()
            server.wait()
        if database:
            drop_postgres(database)
    ratios = report(f"{mode} via API", latencies, peer)
    print(f"  {'worker judge time':<20} median {statistics.median(judge_times) * 1000:.0f} ms"
          " per submission")  # fmt: skip
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=50, help="concurrent submissions")
    parser.add_argument("--modes", default="embedded,redis,s3")
    parser.add_argument("--rounds", type=int, default=3, help="runs per mode (medians printed)")
    args = parser.parse_args()
    print(f"{args.n} concurrent Python submissions of '{PROBLEM}', all tests, 2 judges at once")
    summary = {}
    for mode in args.modes.split(","):
        rounds = []
        for number in range(1, args.rounds + 1):
            print(f"{mode}, round {number}:")
            rounds.append(run_mode(mode, args.n))
        summary[mode] = (
            statistics.median(r[0] for r in rounds),
            statistics.median(r[1] for r in rounds),
        )
    print("median ratio platform / judge alone (target p50 <= 1.15):")
    for mode, (r50, r95) in summary.items():
        print(f"  {mode:<10} p50 {r50:.2f}   p95 {r95:.2f}")


if __name__ == "__main__":
    main()
