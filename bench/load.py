"""Load test of the production shape on this machine: two API instances, two judge workers,
PostgreSQL and Redis, driven by Locust (bench/locustfile.py) for a fixed time.

What it starts, on loopback only, and removes at the end (also on Ctrl+C or SIGTERM):
a fresh database on the PostgreSQL at 127.0.0.1:5432 (`cb_load_<random>`, dropped at the
end), a private redis-server on a free port (never the shared 6379), `codebattle migrate`,
`problems import problems/hello-battle`, one API token per virtual user (plus a room host),
two `codebattle serve` on free ports and two `codebattle worker`s, sharing one DATA_DIR.

The site runs with ENVIRONMENT=development and fast battles (MATCH_COUNTDOWN_SECONDS=1,
MOCK_GPT5=true, AI_SPEED=30). Raised for the test, so that a virtual player's pace is the
only limit: SUBMISSIONS_PER_MINUTE=1000 (default 12), FREE_MATCH_LIMIT=100000 games a day
(default 5), FREE_ROOM_LIMIT=1000 players in a room (default 10).

Then:
1. the bare figure: `Healthz` users (GET /healthz without pause) against one instance for
   --bare-seconds;
2. the load: `Player` users (practice submissions, duels against the AI, room play; see
   bench/locustfile.py) for --run-time, spread over both instances;
3. the drain: waits (at most --drain seconds) until every submission in the database is done;
4. the checks, in the database: every submission done (0 lost), none with verdict IE, no
   match that finished twice (at most one `finished` event per match), each room member's
   solved count equal to the problems they have an accepted submission for.

Prints per entry: count, throughput (req/s), p50/p95 latency, error rate, and the CPU the
processes spent. Exit code 1 on any error, lost submission, IE or broken invariant.

Needs locust (in the dev extra: `.venv/bin/pip install -e '.[dev]'`) and PostgreSQL on
127.0.0.1:5432 (user postgres, trust), redis-server on the PATH.

    .venv/bin/python bench/load.py [--users 20] [--spawn-rate 5] [--run-time 60]
        [--bare-seconds 15] [--drain 120] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CODEBATTLE = str(BIN / "codebattle")
LOCUST = str(BIN / "locust")
LOCUSTFILE = str(ROOT / "bench" / "locustfile.py")
PROBLEM = "hello-battle"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
ROOM_SIZE = 50
TICK = os.sysconf("SC_CLK_TCK")
SITE_ENV = {
    "ENVIRONMENT": "development",
    "MATCH_COUNTDOWN_SECONDS": "1",
    "MATCH_SECONDS": "300",
    "MOCK_GPT5": "true",
    "AI_SPEED": "30",
    "SUBMISSIONS_PER_MINUTE": "1000",
    "FREE_MATCH_LIMIT": "100000",
    "FREE_ROOM_LIMIT": "1000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, check: Any, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what}: not ready after {timeout:.0f} s\n{tail}")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


# --- CPU accounting -----------------------------------------------------------------------


def cpu_of(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of a process; (0, 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving `database` (their titles name it)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found[int(entry.name)] = cpu_of(int(entry.name))[0]
    return found


class BackendMeter(threading.Thread):
    """The CPU of the database's backends during a run, sampled twice a second: the pools
    close the connections they open past their size, and a backend's CPU goes with it."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.start_cpu = backends_cpu(database)
        self.last = dict(self.start_cpu)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.last.update(backends_cpu(self.database))

    def spent(self) -> float:
        self.done.set()
        self.join()
        self.last.update(backends_cpu(self.database))
        return sum(cpu - self.start_cpu.get(pid, 0.0) for pid, cpu in self.last.items())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the machine since boot."""
    values = [int(v) / TICK for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:8]]
    return sum(values) - values[3] - values[4], sum(values)


# --- the site -------------------------------------------------------------------------------


@dataclass
class Site:
    """Everything the test starts; `close` removes it all, whatever state it is in."""

    work: Path
    database: str = ""
    redis_port: int = 0
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.work),
            "DATA_DIR": str(self.work / "var"),
            "SECRET_KEY": "load-test-" + self.database,
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{self.database}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            **SITE_ENV,
        }

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.work / f"{name}.log").open("ab")
        # A session of its own: Ctrl+C reaches this script only, which stops them in order.
        proc = subprocess.Popen(args, env=env, cwd=self.work, stdout=log, stderr=log,
                                start_new_session=True)  # fmt: skip
        self.procs[name] = proc
        return proc

    def cli(self, *args: str) -> str:
        done = subprocess.run([CODEBATTLE, *args], env=self.env, cwd=self.work,
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"codebattle {' '.join(args)}: {done.stderr[-3000:]}")
        return done.stdout.strip()

    def start(self, instances: int, workers: int) -> None:
        self.database = f"cb_load_{uuid.uuid4().hex[:10]}"
        asyncio.run(admin(f'CREATE DATABASE "{self.database}"'))
        self.redis_port = free_port()
        self.spawn("redis", ["redis-server", "--bind", "127.0.0.1", "--port",
                             str(self.redis_port), "--save", "", "--appendonly", "no",
                             "--dir", str(self.work)], {"PATH": os.environ["PATH"]})  # fmt: skip
        wait_until("redis", self.redis_up, 20, self.work / "redis.log")
        self.cli("migrate")
        self.cli("problems", "import", str(ROOT / "problems" / PROBLEM))
        for n in range(instances):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            self.spawn(f"api{n + 1}", [CODEBATTLE, "serve", "--port", str(port), "--no-migrate"],
                       {**self.env, "BASE_URL": url})  # fmt: skip
            self.hosts.append(url)
        # Workers run untrusted code: no database, no secret key (they would warn).
        worker_env = {k: v for k, v in self.env.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
        for n in range(workers):
            self.spawn(f"worker{n + 1}", [CODEBATTLE, "worker"], worker_env)
        for n, url in enumerate(self.hosts):
            wait_until(f"api{n + 1}", lambda u=url: answers(u + "/readyz"), 90,
                       self.work / f"api{n + 1}.log")  # fmt: skip

    def redis_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def close(self, keep: bool) -> None:
        redis = self.procs.pop("redis", None)
        stop(list(self.procs.values()))
        stop([redis] if redis else [])  # last: the others would log that it went away
        if self.database:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        if keep:
            print(f"logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each process's group, then SIGKILL to any still there after 20 s."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def make_tokens(database: str, nicknames: list[str]) -> list[str]:
    """One API token per nickname, in one process (`codebattle users token` does the same
    one user per run, in about a second each)."""
    from codebattle.accounts import service as accounts
    from codebattle.db.session import Database

    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}")
    tokens = []
    try:
        async with db.session() as session:
            for nickname in nicknames:
                user = await accounts.ensure_user(session, nickname)
                tokens.append((await accounts.create_token(session, user, "load"))[1])
    finally:
        await db.dispose()
    return tokens


def make_rooms(host: str, token: str, count: int, minutes: int) -> list[dict[str, Any]]:
    """Private rooms, started, for the players to join by code."""
    rooms = []
    with httpx.Client(base_url=host, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:  # fmt: skip
        for n in range(count):
            made = client.post("/api/rooms", json={
                "title": f"Load {n + 1}", "problems": [PROBLEM], "duration_minutes": minutes,
                "size_limit": ROOM_SIZE, "public": False})  # fmt: skip
            made.raise_for_status()
            room = made.json()
            client.post(f"/api/rooms/{room['id']}/start").raise_for_status()
            rooms.append({"id": room["id"], "code": room["code"]})
    return rooms


# --- Locust ---------------------------------------------------------------------------------


@dataclass
class Entry:
    kind: str
    name: str
    count: int
    failures: int
    rps: float
    p50: float
    p95: float


def run_locust(
    site: Site,
    config: Path,
    user_class: str,
    users: int,
    spawn_rate: float,
    seconds: int,
    label: str,
) -> tuple[list[Entry], dict[str, float], list[str]]:
    """Locust headless in a process of its own; (entries, CPU seconds spent, failures)."""
    prefix = site.work / label
    args = [LOCUST, "-f", LOCUSTFILE, "--headless", "--users", str(users),
            "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s", "--stop-timeout", "5",
            "--host", site.hosts[0], "--csv", str(prefix), "--only-summary",
            "--loglevel", "WARNING", user_class]  # fmt: skip
    before = cpu_snapshot(site)
    reaped = children_cpu()
    database = BackendMeter(site.database)
    database.start()
    proc = site.spawn(f"locust-{label}", args, {**os.environ, "LOAD_CONFIG": str(config)})
    try:
        proc.wait(seconds + 120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise RuntimeError("locust did not stop in time") from None
    spent = cpu_spent(site, before)
    spent["PostgreSQL"] = database.spent()
    spent["Locust"] = children_cpu() - reaped  # the one child this script reaped meanwhile
    entries = []
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError((site.work / f"locust-{label}.log").read_text()[-3000:])
    with stats.open() as file:
        for row in csv.DictReader(file):
            if row["Name"] == "Aggregated":
                continue
            entries.append(Entry(row["Type"], row["Name"], int(row["Request Count"]),
                                 int(row["Failure Count"]), float(row["Requests/s"]),
                                 float(row["50%"] or 0), float(row["95%"] or 0)))  # fmt: skip
    failures = []
    with Path(f"{prefix}_failures.csv").open() as file:
        for row in csv.DictReader(file):
            failures.append(f"{row['Occurrences']}× {row['Name']}: {row['Error'][:160]}")
    return entries, spent, failures


def cpu_snapshot(site: Site) -> dict[str, float]:
    own = {name: cpu_of(proc.pid) for name, proc in site.procs.items()}
    return {
        "API": sum(sum(v) for k, v in own.items() if k.startswith("api")),
        "workers": sum(v[0] for k, v in own.items() if k.startswith("worker")),
        "sandboxes": sum(v[1] for k, v in own.items() if k.startswith("worker")),
        "Redis": sum(own.get("redis", (0.0, 0.0))),
        "machine busy": machine_cpu()[0],
        "machine all": machine_cpu()[1],
    }


def cpu_spent(site: Site, before: dict[str, float]) -> dict[str, float]:
    after = cpu_snapshot(site)
    return {k: after[k] - before[k] for k in after}


def print_entries(title: str, entries: list[Entry], spent: dict[str, float]) -> None:
    print(f"\n{title}")
    print(f"  {'entry':<36} {'count':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>8}")
    for e in sorted(entries, key=lambda e: (e.kind == "FLOW", e.name)):
        rate = e.failures / e.count * 100 if e.count else 0.0
        print(f"  {e.name:<36} {e.count:>7} {e.rps:>8.1f} {e.p50:>8.0f} {e.p95:>8.0f} "
              f"{rate:>7.2f}%")  # fmt: skip
    http = [e for e in entries if e.kind != "FLOW"]
    total = sum(e.count for e in http)
    print(f"  {'all HTTP requests':<36} {total:>7} {sum(e.rps for e in http):>8.1f}")
    posts = [e for e in http if e.name.startswith("POST /api/submissions")]
    print(f"  {'submissions made':<36} {sum(e.count for e in posts):>7} "
          f"{sum(e.rps for e in posts):>8.1f}")  # fmt: skip
    busy = spent.pop("machine busy")
    whole = spent.pop("machine all")
    print("  CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in spent.items())
          + f"; machine busy {busy / whole * 100 if whole else 0:.0f}%"
          + f", load average (1 min) {os.getloadavg()[0]:.1f}")  # fmt: skip


# --- the checks -----------------------------------------------------------------------------

PENDING = "SELECT count(*) FROM submissions WHERE status <> 'done'"
CHECKS = {
    "submissions": "SELECT count(*) FROM submissions",
    "not done (lost)": PENDING,
    "verdict IE": "SELECT count(*) FROM submissions WHERE verdict = 'IE'",
    "matches": "SELECT count(*) FROM matches",
    "matches finished twice": """SELECT count(*) FROM (SELECT match_id FROM match_events
        WHERE type = 'finished' GROUP BY match_id HAVING count(*) > 1) AS twice""",
    "room members with a wrong solved count": """SELECT count(*) FROM room_members m
        WHERE m.solved <> (SELECT count(DISTINCT s.problem_id) FROM submissions s
            WHERE s.room_id = m.room_id AND s.user_id = m.user_id AND s.verdict = 'AC')""",
}
MUST_BE_ZERO = ("not done (lost)", "verdict IE", "matches finished twice",
                "room members with a wrong solved count")  # fmt: skip


async def count(database: str, query: str) -> int:
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


def drain(database: str, timeout: float) -> float:
    """Wait until no submission is pending (the AI may still submit in a game that goes on);
    the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if asyncio.run(count(database, PENDING)) == 0:
            break
        time.sleep(1)
    return time.monotonic() - start


# --- main -----------------------------------------------------------------------------------


def on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # clean up as on Ctrl+C


@contextmanager
def site_for(keep: bool) -> Iterator[Site]:
    work = Path(tempfile.mkdtemp(prefix="cb-load-"))
    work.chmod(0o755)  # the sandbox reads the judge's files under DATA_DIR
    site = Site(work)
    try:
        yield site
    finally:
        site.close(keep)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--users", type=int, default=20, help="virtual players (default 20)")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second")
    parser.add_argument("--run-time", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--bare-seconds", type=int, default=15,
                        help="seconds of the /healthz figure, 0 to skip (default 15)")  # fmt: skip
    parser.add_argument("--drain", type=int, default=120,
                        help="seconds to wait for pending verdicts after the load")  # fmt: skip
    parser.add_argument("--rooms", type=int, default=0,
                        help=f"rooms (default: one per {ROOM_SIZE // 2} users)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder")
    args = parser.parse_args()
    if not Path(LOCUST).exists():
        sys.exit("locust is missing: .venv/bin/pip install -e '.[dev]'")
    signal.signal(signal.SIGTERM, on_sigterm)
    # Ctrl+C cleans up too, even when started where SIGINT was ignored (a shell's `&`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rooms = args.rooms or -(-args.users // (ROOM_SIZE // 2))
    print(
        f"{args.users} players (spawn {args.spawn_rate}/s) for {args.run_time} s on 2 API "
        f"instances + 2 workers, PostgreSQL + Redis; {rooms} room(s); {os.cpu_count()} CPUs, "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )
    try:
        with site_for(args.keep) as site:
            started = time.monotonic()
            site.start(instances=2, workers=2)
            nicknames = [f"load{n:04d}" for n in range(args.users)] + ["loadhost"]
            *tokens, host_token = asyncio.run(make_tokens(site.database, nicknames))
            minutes = max(30, (args.run_time + args.drain) // 60 + 10)
            config = site.work / "config.json"
            config.write_text(json.dumps({
                "problem": PROBLEM, "hosts": site.hosts, "tokens": tokens,
                "rooms": make_rooms(site.hosts[0], host_token, rooms, minutes)}))  # fmt: skip
            print(f"site up in {time.monotonic() - started:.0f} s: {', '.join(site.hosts)}")

            if args.bare_seconds:
                entries, spent, _ = run_locust(site, config, "Healthz", args.users,
                                               args.users, args.bare_seconds, "bare")  # fmt: skip
                print_entries(f"bare: {args.users} users, GET /healthz without pause, one "
                              f"instance, {args.bare_seconds} s", entries, spent)  # fmt: skip

            entries, spent, failures = run_locust(
                site, config, "Player", args.users, args.spawn_rate, args.run_time, "load"
            )
            print_entries(f"load: {args.users} players, {args.run_time} s", entries, spent)
            for line in failures[:20]:
                print(f"  failure: {line}")

            waited = drain(site.database, args.drain)
            print(f"\nafter the load, pending verdicts drained in {waited:.1f} s")
            found = {k: asyncio.run(count(site.database, q)) for k, q in CHECKS.items()}
            for name, value in found.items():
                mark = "" if name not in MUST_BE_ZERO else ("  ok" if value == 0 else "  FAIL")
                print(f"  {name:<42} {value:>6}{mark}")
            errors = sum(e.failures for e in entries)
            broken = [k for k in MUST_BE_ZERO if found[k]]
            verdict = "PASS" if not errors and not broken else "FAIL"
            print(f"{verdict}: {errors} request errors, {found['not done (lost)']} lost "
                  f"submissions, {found['verdict IE']} IE" + (f"; broken: {', '.join(broken)}"
                  if broken else ""))  # fmt: skip
            return 0 if verdict == "PASS" else 1
    except KeyboardInterrupt:
        print("interrupted: everything stopped and removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
