"""Sandbox overhead: a trivial C++ program and a Python hello world, bare and sandboxed.

For each program it prints the time per run bare (plain subprocess, the peer) and sandboxed,
the overhead in ms, in three modes:
- cold: each run sets up its sandbox, then runs (`Sandbox.run`: compiling, validators);
- ahead: the next run's sandbox is set up while the current one runs (`Sandbox.prepare`:
  the engine's path when the static launcher cannot be built);
- reused: one sandbox serves the runs of a submission (`Sandbox.session`, decision 0013),
  a fresh session every `--tests` runs, each run reading its stdin from a file: the engine's
  path. The figure includes starting the sessions.
Bare and sandboxed runs are interleaved in one process, so the machine's noise hits both
alike. Then sandboxed C++ throughput on all cores, one worker process per core (how judge
workers are deployed), each judging in the reused mode.

Targets (issue 11, "Faster sandboxes"): at most 2 ms over bare per run on the engine's
path, at least 350 sandboxed C++ runs/s on 2 cores.

    .venv/bin/python bench/sandbox_overhead.py [-n 200] [--tests 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from codebattle.judge import languages
from codebattle.judge.compiler import Compiler, Program
from codebattle.judge.sandbox import Box, Limits, PreparedRun, Sandbox

CPP = '#include <cstdio>\nint main() { std::puts("hello"); return 0; }\n'
PYTHON = 'print("hello")\n'
LIMITS = Limits(cpu_time=2, wall_time=5, memory=256 << 20)
INPUT = Path(tempfile.gettempdir()) / f"codebattle-bench-input-{os.getpid()}"


def bare_run(argv: list[str]) -> float:
    start = time.perf_counter()
    with open(INPUT, "rb") as stdin:
        subprocess.run(argv, stdin=stdin, capture_output=True, check=True)
    return time.perf_counter() - start


def _check(output: bytes) -> None:
    if output != b"hello\n":
        raise SystemExit(f"unexpected output: {output!r}")


def cold_run(sandbox: Sandbox, program: Program) -> float:
    start = time.perf_counter()
    with sandbox.box() as box:
        result = sandbox.run(program.argv(LIMITS.memory), box, LIMITS, binds=program.binds())
    elapsed = time.perf_counter() - start
    _check(result.stdout)
    return elapsed


def ahead_loop(sandbox: Sandbox, program: Program, n: int) -> float:
    """Seconds per run when each run's sandbox is prepared during the previous run."""

    def prepare() -> tuple[Box, PreparedRun]:
        box = sandbox.new_box()
        return box, sandbox.prepare(program.argv(LIMITS.memory), box, LIMITS, binds=program.binds())

    start = time.perf_counter()
    current = prepare()
    for i in range(n):
        following = prepare() if i + 1 < n else None  # as the engine did
        box, prepared = current
        _check(prepared.run().stdout)
        sandbox.discard(box)
        if following is not None:
            current = following
    elapsed = time.perf_counter() - start
    sandbox.settle()
    return elapsed / n


def reused_loop(
    sandbox: Sandbox, program: Program, n: int, tests: int, bare: list[str] | None = None
) -> tuple[float, float]:
    """Seconds per run in reused sandboxes (a session per `tests` runs, as per submission),
    and, when `bare` is given, seconds per bare run interleaved with them (else 0)."""
    reused = bare_total = 0.0
    done = 0
    while done < n:
        start = time.perf_counter()
        session = sandbox.session(binds=program.binds(), env=program.language.env)
        reused += time.perf_counter() - start
        with session:
            for _ in range(min(tests, n - done)):
                if bare is not None:
                    bare_total += bare_run(bare)
                start = time.perf_counter()
                with open(INPUT, "rb") as stdin:
                    result = session.run(program.argv(LIMITS.memory), LIMITS, stdin=stdin.fileno())
                reused += time.perf_counter() - start
                _check(result.stdout)
                done += 1
    sandbox.settle()
    return reused / n, bare_total / n


def bare_argv(program: Program) -> list[str]:
    return [a.replace("/prog", str(program.artifacts)) for a in program.argv(LIMITS.memory)]


def measure(sandbox: Sandbox, program: Program, n: int, tests: int) -> dict[str, float]:
    """Seconds per run: bare and cold (medians, interleaved), ahead (median of 5 loops),
    reused and the bare runs interleaved with it (means over the loop)."""
    argv = bare_argv(program)
    bare, cold = [], []
    for _ in range(5):  # warm caches for both
        bare_run(argv)
        cold_run(sandbox, program)
    for _ in range(n):
        bare.append(bare_run(argv))
        cold.append(cold_run(sandbox, program))
    ahead = statistics.median(ahead_loop(sandbox, program, max(10, n // 5)) for _ in range(5))
    reused_loop(sandbox, program, tests, tests)  # warm
    reused, reused_bare = reused_loop(sandbox, program, n, tests, argv)
    return {
        "bare": statistics.median(bare),
        "cold": statistics.median(cold),
        "ahead": ahead,
        "reused bare": reused_bare,
        "reused": reused,
    }


def worker(n: int, tests: int) -> float:
    """One judge worker process: runs/s of the C++ program in the reused mode."""
    sandbox = Sandbox()
    compiled = Compiler(sandbox).compile(languages.get("cpp"), CPP)
    assert compiled.program is not None
    reused_loop(sandbox, compiled.program, tests, tests)
    return 1 / reused_loop(sandbox, compiled.program, n, tests)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="runs per measurement")
    parser.add_argument("--tests", type=int, default=10, help="runs per reused sandbox")
    args = parser.parse_args()
    INPUT.write_bytes(b"1 2\n")
    try:
        run(args.n, args.tests)
    finally:
        INPUT.unlink(missing_ok=True)


def run(n: int, tests: int) -> None:
    sandbox = Sandbox()
    if not sandbox.reusable:
        raise SystemExit("the static launcher could not be built: no reused sandboxes")
    compiler = Compiler(sandbox)
    cores = os.cpu_count() or 1
    print(f"sandbox overhead, {n} runs each, reused sandboxes of {tests} runs, {cores} cores")
    print(f"enforcement: {sandbox.enforcement}")
    print(
        f"{'program':<14} {'bare ms':>8} {'cold ms':>8} {'overhead':>9}"
        f" {'ahead ms':>9} {'overhead':>9} {'bare ms':>8} {'reused ms':>10} {'overhead':>9}"
    )
    for name, lang, code in (("C++ trivial", "cpp", CPP), ("Python hello", "python", PYTHON)):
        compiled = compiler.compile(languages.get(lang), code)
        if compiled.program is None:
            raise SystemExit(f"{name} did not compile: {compiled.output}")
        m = {k: v * 1e3 for k, v in measure(sandbox, compiled.program, n, tests).items()}
        print(
            f"{name:<14} {m['bare']:8.2f} {m['cold']:8.2f} {m['cold'] - m['bare']:9.2f}"
            f" {m['ahead']:9.2f} {m['ahead'] - m['bare']:9.2f} {m['reused bare']:8.2f}"
            f" {m['reused']:10.2f} {m['reused'] - m['reused bare']:9.2f}"
        )
    one = worker(n, tests)
    with ProcessPoolExecutor(cores) as pool:
        rates = list(pool.map(worker, [n] * cores, [tests] * cores))
    print(
        f"sandboxed C++ runs/s (reused): {sum(rates):.0f} with {cores} worker processes,"
        f" {one:.0f} with one"
    )
    print("targets: at most 2 ms over bare (reused, the engine's path), >= 350 runs/s on 2 cores")


if __name__ == "__main__":
    main()
