"""Verdict latency (issue 18, "Verdicts fast enough to race"): how soon a player sees results.

Four figures, each next to its peer from the same run (the machine is noisy: ratios matter):
1. Submit → first test result, and → final verdict, over the API in the embedded default
   (SQLite, in-process queue, 2 local judge workers), one submission at a time, each with
   distinct code (none served from the compile cache), on hello-battle: Python, C++ with
   `<bits/stdc++.h>`, Java. Peer: compiling the same source bare and running its first
   test bare, right after each submission. Targets: p50 ≤ 300 ms Python, ≤ 900 ms C++,
   ≤ 800 ms Java.
2. C++ `<bits/stdc++.h>` compile: the judge's Compiler in the sandbox with the precompiled
   header (judge/prebuilt.py) against a bare `g++` with the same flags, interleaved. Also
   the Compiler without prebuilt artifacts (the path before). Target: ≤ 0.4 of bare.
3. Java per test: a run in the judge's reused sandbox (its flags, limits and archives)
   against a bare `java -cp DIR Main` of the same class with default flags, interleaved.
   Target: ≤ 1.5 × bare.
4. Duels under load: `--load` slow practice submissions queued, then one Python submission
   in each of `--duels` ranked games, one after the other: their first results, against the
   Python target; peer: the Python p50 of part 1 on the idle site.

    .venv/bin/python bench/verdict_latency.py [-n 10] [--languages python,cpp,java]
        [--skip-load] [--load 50] [--duels 3] [--rounds 1] [--commit HEAD]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import websockets

from codebattle.judge import languages
from codebattle.judge.compiler import Compiler, Program
from codebattle.judge.engine import Judge
from codebattle.judge.languages.cpp import LANGUAGE as CPP
from codebattle.judge.loader import load_package
from codebattle.judge.prebuilt import PREBUILTS, Prebuilts
from submit_latency import PROBLEM, ROOT, Site, percentile  # bench/: the script's folder

SAMPLE = ROOT / "problems" / PROBLEM / "data" / "sample" / "1.in"
ANSWER = b"8\n"  # of SAMPLE
TARGET_FIRST_MS = {"python": 300.0, "cpp": 900.0, "java": 800.0}
TARGET_COMPILE_RATIO = 0.4
TARGET_JAVA_RATIO = 1.5
# Set when running on an exported commit (`--commit`): its short hash.
TREE = "CODEBATTLE_BENCH_TREE"
TESTS_PER_SESSION = 22  # hello-battle's tests: one reused sandbox per submission


def source(language: str, tag: str, sleep: float = 0.0) -> str:
    """An accepted solution whose comment `tag` makes it new to the compile cache."""
    if language == "python":
        pause = f"import time\ntime.sleep({sleep})\n" if sleep else ""
        return f"# {tag}\n{pause}a, b = map(int, input().split())\nprint(a + b)\n"
    if language == "cpp":
        return (
            f"// {tag}\n#include <bits/stdc++.h>\nusing namespace std;\n"
            "int main() { long long a, b; cin >> a >> b; cout << a + b << '\\n'; }\n"
        )
    return (
        f"// {tag}\nimport java.io.*;\nimport java.util.*;\n\npublic class Main {{\n"
        "    public static void main(String[] args) throws IOException {\n"
        "        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));\n"
        "        StringTokenizer st = new StringTokenizer(in.readLine());\n"
        "        long a = Long.parseLong(st.nextToken()), b = Long.parseLong(st.nextToken());\n"
        "        System.out.println(a + b);\n    }\n}\n"
    )


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bare(argv: list[str], cwd: Path, stdin: Path | None = None) -> bytes:
    with open(stdin or os.devnull, "rb") as data:
        return subprocess.run(argv, cwd=cwd, stdin=data, capture_output=True, check=True).stdout


# -- 1. submit to first result, over the API -------------------------------------------------


def bare_first_test(language: str, code: str) -> float:
    """Seconds to compile `code` bare (the judge's compile flags for C++, plain `javac`) and
    run it on the first sample with the runtime's default flags."""
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        if language == "python":
            (cwd / "main.py").write_text(code)
            argv = ["/usr/bin/python3", "main.py"]
            return timed(lambda: bare(argv, cwd, SAMPLE))
        if language == "cpp":
            (cwd / "main.cpp").write_text(code)
            (cwd / "out").mkdir()
            build = list(CPP.compile_argv or ())
            return timed(lambda: (bare(build, cwd), bare(["out/main"], cwd, SAMPLE)))
        (cwd / "Main.java").write_text(code)
        build = ["/usr/bin/javac", "Main.java"]
        return timed(lambda: (bare(build, cwd), bare(["/usr/bin/java", "Main"], cwd, SAMPLE)))


@dataclass
class Followed:
    first: float  # seconds from the POST to the first test result seen
    final: float  # ... to the final verdict
    verdict: str


async def submit(client: httpx.AsyncClient, code: str, language: str, match: int | None) -> int:
    body: dict[str, Any] = {"problem": PROBLEM, "language": language, "code": code}
    if match is not None:
        body["match"] = match
    reply = await client.post("/api/submissions", json=body)
    reply.raise_for_status()
    return int(reply.json()["id"])


async def follow(client: httpx.AsyncClient, sid: int, start: float) -> Followed:
    """Watch submission `sid` on its socket. A test already in the snapshot counts when
    the snapshot arrives (the socket opens after the POST's answer: a few ms late)."""
    url = f"ws://127.0.0.1:{client.base_url.port}/ws/submissions/{sid}"
    headers = {"Authorization": client.headers["Authorization"]}
    first = None
    async with websockets.connect(url, additional_headers=headers, max_size=1 << 22) as ws:
        async for raw in ws:
            message = json.loads(raw)
            submission = message.get("submission") or {}
            if first is None and (message["type"] == "test" or submission.get("tests")):
                first = time.monotonic() - start
            if message["type"] == "done" or submission.get("status") == "done":
                final = time.monotonic() - start
                return Followed(first or final, final, str(submission["verdict"]))
    raise RuntimeError(f"socket closed before submission {sid} was done")


async def one(
    client: httpx.AsyncClient, code: str, language: str, match: int | None = None
) -> Followed:
    start = time.monotonic()
    sid = await submit(client, code, language, match)
    result = await follow(client, sid, start)
    if result.verdict != "AC":
        raise RuntimeError(f"{language} submission {sid}: {result.verdict}")
    return result


async def first_results(
    client: httpx.AsyncClient, language: str, n: int
) -> tuple[list[Followed], list[float]]:
    """n submissions one at a time, each followed by its bare peer."""
    tag = uuid.uuid4().hex
    for i in range(3):  # both workers unpack the package and start their runtimes
        await one(client, source(language, f"warm-{tag}-{i}"), language)
    ours, peer = [], []
    for i in range(n):
        code = source(language, f"{tag}-{i}")
        ours.append(await one(client, code, language))
        peer.append(await asyncio.to_thread(bare_first_test, language, code))
    return ours, peer


# -- 2. C++ compile --------------------------------------------------------------------------


def compile_figures(n: int) -> dict[str, float]:
    """Median seconds of a `<bits/stdc++.h>` compile: bare g++, the Compiler with the
    precompiled header, without it; interleaved."""
    judge = Judge()
    if not PREBUILTS.ready(CPP.prebuilt, "compile"):
        raise SystemExit("no precompiled header: see `codebattle judge prepare`")
    with tempfile.TemporaryDirectory() as cache:
        ours = Compiler(judge.sandbox, Path(cache) / "with")
        before = Compiler(judge.sandbox, Path(cache) / "without", prebuilt=Prebuilts(enabled=False))
        times: dict[str, list[float]] = {"bare": [], "ours": [], "no pch": []}
        tag = uuid.uuid4().hex
        for i in range(n + 1):  # the first round warms the caches
            code = source("cpp", f"{tag}-{i}")
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "main.cpp").write_text(code)
                (Path(folder) / "out").mkdir()
                bare_s = timed(lambda: bare(list(CPP.compile_argv or ()), Path(folder)))
            ours_s = timed(partial(_compiled, ours, code))
            before_s = timed(partial(_compiled, before, code))
            if i:
                times["bare"].append(bare_s)
                times["ours"].append(ours_s)
                times["no pch"].append(before_s)
    return {k: statistics.median(v) for k, v in times.items()}


def _compiled(compiler: Compiler, code: str) -> Program:
    result = compiler.compile(CPP, code)
    if result.program is None:
        raise SystemExit(f"did not compile: {result.output} {result.internal_error}")
    return result.program


# -- 3. Java per test ------------------------------------------------------------------------


def java_figures(runs: int) -> dict[str, float]:
    """Median seconds per test: the judge's sandboxed run (a session per 22 tests, as one
    submission) and a bare `java -cp DIR Main`, interleaved."""
    judge = Judge()
    java = languages.get("java")
    compiled = judge.compiler.compile(java, source("java", uuid.uuid4().hex))
    program = compiled.program
    if program is None:
        raise SystemExit(f"Java did not compile: {compiled.output}")
    package = load_package(ROOT / "problems" / PROBLEM)
    limits = judge.run_limits(package, program, package.limits.time_limit)
    argv = program.argv(package.limits.memory << 20)
    peer = ["/usr/bin/java", "-cp", str(program.artifacts), program.main]
    times: dict[str, list[float]] = {"bare": [], "ours": []}
    done = 0
    while done < runs + 2:  # the first two warm caches
        with judge.sandbox.session(
            binds=program.binds(), env=java.env, tmp_size=limits.tmp_size
        ) as session:
            for _ in range(min(TESTS_PER_SESSION, runs + 2 - done)):
                bare_s = timed(lambda: _expect(bare(peer, Path("/"), SAMPLE)))
                with open(SAMPLE, "rb") as stdin:
                    start = time.perf_counter()
                    run = session.run(argv, limits, stdin=stdin.fileno())
                    ours_s = time.perf_counter() - start
                _expect(run.stdout)
                if done >= 2:
                    times["bare"].append(bare_s)
                    times["ours"].append(ours_s)
                done += 1
    judge.sandbox.settle()
    return {k: statistics.median(v) for k, v in times.items()}


def _expect(output: bytes) -> None:
    if output != ANSWER:
        raise SystemExit(f"unexpected output {output!r}")


# -- 4. a duel under load --------------------------------------------------------------------


@asynccontextmanager
async def duel_match(site: Site) -> AsyncIterator[tuple[int, str]]:
    """A ranked match between two new players, started: its id and the first player's
    token. Both stay on its socket meanwhile (a player who leaves loses on time)."""
    tokens = [site.run("users", "token", f"duelist-{uuid.uuid4().hex[:8]}").strip() for _ in "ab"]
    base = f"http://127.0.0.1:{site.port}"
    match = None
    for token in tokens:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            reply = await client.post("/api/queue")
            reply.raise_for_status()
            match = reply.json().get("match", match)
    if match is None:
        raise RuntimeError("the two players were not paired")
    async with AsyncExitStack() as stack:
        sockets = []
        for token in tokens:
            ws = await stack.enter_async_context(websockets.connect(
                f"ws://127.0.0.1:{site.port}/ws/matches/{match}",
                additional_headers={"Authorization": f"Bearer {token}"}, max_size=1 << 22,
            ))  # fmt: skip
            await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
            sockets.append(ws)
        async with asyncio.timeout(60):
            async for raw in sockets[0]:
                message = json.loads(raw)
                if message.get("type") == "event" and message["event"]["type"] == "started":
                    break
        yield match, tokens[0]


async def under_load(
    site: Site, client: httpx.AsyncClient, load: int, sleep: float, duels: int
) -> tuple[list[Followed], int]:
    """`load` practice submissions (each test sleeping `sleep` s) queued, then one
    submission in each of `duels` ranked games, one after the other: their results, and how
    many practice submissions were not done when the last came."""
    async with AsyncExitStack() as stack:
        games = [await stack.enter_async_context(duel_match(site)) for _ in range(duels)]
        tag = uuid.uuid4().hex
        queued = await asyncio.gather(
            *(submit(client, source("python", f"{tag}-{i}", sleep), "python", None)
              for i in range(load))
        )  # fmt: skip
        await asyncio.sleep(1)  # both workers are on it
        results = []
        for number, (match, token) in enumerate(games):
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                base_url=client.base_url, headers=headers, timeout=60
            ) as player:
                code = source("python", f"duel-{tag}-{number}")
                results.append(await one(player, code, "python", match))
        replies = await asyncio.gather(*(client.get(f"/api/submissions/{i}") for i in queued))
    return results, sum(reply.json()["status"] != "done" for reply in replies)


# -- the run and its table -------------------------------------------------------------------


@dataclass
class Row:
    name: str
    ours: float  # ms
    peer: float  # ms
    target: str
    met: bool | None


def api_rows(language: str, ours: list[Followed], peer: list[float]) -> list[Row]:
    first = [r.first * 1000 for r in ours]
    final = [r.final * 1000 for r in ours]
    p50, p90 = percentile(first, 50), percentile(first, 90)
    bare_ms = statistics.median(peer) * 1000
    target = TARGET_FIRST_MS[language]
    return [
        Row(f"{language}: submit → first result p50", p50, bare_ms, f"≤ {target:.0f}",
            p50 <= target),
        Row(f"{language}: submit → first result p90", p90, bare_ms, "", None),
        Row(f"{language}: submit → final verdict p50", percentile(final, 50), bare_ms, "", None),
    ]  # fmt: skip


def print_table(rows: list[Row]) -> None:
    print(f"  {'figure':<42} {'ours':>9} {'peer':>9} {'ratio':>6}  {'target':<10} met")
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        print(
            f"  {r.name:<42} {r.ours:6.0f} ms {r.peer:6.0f} ms {r.ours / r.peer:6.2f}  "
            f"{r.target:<10} {met}"
        )


def run_round(args: argparse.Namespace) -> list[Row]:
    # As `codebattle judge prepare` at install: what a judge uses is there and valid.
    outcomes = PREBUILTS.prepare(Judge().sandbox, languages.prebuilt())
    print("  prebuilt artifacts: " + ", ".join(f"{o.name} {o.state}" for o in outcomes))
    rows: list[Row] = []
    wanted = args.languages.split(",")
    if "cpp" in wanted:
        c = {k: v * 1000 for k, v in compile_figures(args.n).items()}
        ratio = c["ours"] / c["bare"]
        rows.append(Row("C++ <bits/stdc++.h> compile, ours / bare", c["ours"], c["bare"],
                        f"≤ {TARGET_COMPILE_RATIO} ×", ratio <= TARGET_COMPILE_RATIO))  # fmt: skip
        rows.append(Row("C++ compile without prebuilt (before)", c["no pch"], c["bare"], "", None))
    if "java" in wanted:
        j = {k: v * 1000 for k, v in java_figures(max(20, 2 * args.n)).items()}
        ratio = j["ours"] / j["bare"]
        rows.append(Row("Java per test, ours / bare java", j["ours"], j["bare"],
                        f"≤ {TARGET_JAVA_RATIO} ×", ratio <= TARGET_JAVA_RATIO))  # fmt: skip
    env = {"JUDGE_WORKERS": "2", "MATCH_COUNTDOWN_SECONDS": "0"}
    if "PYTHONPATH" in os.environ:  # a tree other than the checkout's (`measured`)
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    site = Site(env, workers=0)
    if TREE in os.environ:
        # The judge workers get only PATH; `python -m` finds the package in their working
        # folder, the site's, first: the exported commit's, not the checkout's.
        (site.data / "codebattle").symlink_to(Path(env["PYTHONPATH"]) / "codebattle")
    try:
        token = site.start()
        asyncio.run(through_api(site, token, wanted, args, rows))
    finally:
        site.stop()
    return rows


async def through_api(
    site: Site, token: str, wanted: list[str], args: argparse.Namespace, rows: list[Row]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{site.port}"
    idle_python = None
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        for language in wanted:
            ours, peer = await first_results(client, language, args.n)
            rows.extend(api_rows(language, ours, peer))
            if language == "python":
                idle_python = percentile([r.first * 1000 for r in ours], 50)
        if args.skip_load:
            return
        duels, left = await under_load(site, client, args.load, args.sleep, args.duels)
    print(f"  the duels' last verdict came with {left} of {args.load} practice submissions undone")
    first = percentile([d.first * 1000 for d in duels], 50)
    target = TARGET_FIRST_MS["python"]
    idle = idle_python or float("nan")
    name = f"{len(duels)} duels, {args.load} queued: first result p50"
    rows.append(Row(name, first, idle, f"≤ {target:.0f}", first <= target))
    worst = max(d.first * 1000 for d in duels)
    rows.append(Row(f"{len(duels)} duels, {args.load} queued: first result max", worst, idle,
                    "", None))  # fmt: skip
    final = percentile([d.final * 1000 for d in duels], 50)
    rows.append(Row(f"{len(duels)} duels, {args.load} queued: final p50", final, idle, "", None))


def measured() -> str:
    """Which code runs: the commit, and the files of src/ changed since (the tree is
    shared), or the commit `--commit` exported."""
    if TREE in os.environ:
        return f"commit {os.environ[TREE]} (exported, the checkout's changes left out)"
    commit = git("rev-parse", "--short", "HEAD").strip()
    changed = ", ".join(line[3:] for line in git("status", "--porcelain", "src").splitlines())
    return f"commit {commit}" + (f" with uncommitted changes to {changed}" if changed else "")


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout


def at_commit(commit: str) -> int:
    """Run this script again on `commit`'s src/ (`git archive`), its server included: the
    checkout is shared, and other changes in progress would be measured too."""
    label = git("rev-parse", "--short", commit).strip()
    with tempfile.TemporaryDirectory(prefix="cb-bench-tree-") as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"],
                                 capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": f"{tree}/src", TREE: label}
        argv = [a for a in sys.argv if a != "--commit" and a != commit]
        return subprocess.run([sys.executable, *argv], env=env, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10, help="submissions (and compiles) each")
    parser.add_argument("--languages", default="python,cpp,java")
    parser.add_argument("--skip-load", action="store_true", help="no duel under load")
    parser.add_argument("--load", type=int, default=50, help="practice submissions queued")
    parser.add_argument("--duels", type=int, default=3, help="duel submissions under load")
    parser.add_argument("--sleep", type=float, default=0.1, help="seconds each load test sleeps")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--commit", help="measure this commit's code, not the checkout's")
    args = parser.parse_args()
    if args.commit and TREE not in os.environ:
        raise SystemExit(at_commit(args.commit))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"verdict latency on '{PROBLEM}', {args.n} each; {measured()}; load average {load}")
    for number in range(1, args.rounds + 1):
        rows = run_round(args)
        print(f"round {number} (load average now {os.getloadavg()[0]:.2f}):")
        print_table(rows)


if __name__ == "__main__":
    main()
