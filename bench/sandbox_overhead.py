"""Sandbox overhead: a trivial C++ program and a Python hello world, bare and sandboxed.

For each program it prints the median time per run bare (plain subprocess, the peer) and
sandboxed, the overhead in ms and the ratio, in two modes:
- cold: each run sets up its sandbox, then runs (`Sandbox.run`);
- ahead: the next run's sandbox is set up while the current one runs, as the engine does for
  the tests of a submission (`Sandbox.prepare`); the figure is wall time per run in a loop.
Then sandboxed C++ throughput on all cores, one worker process per core (how judge workers
are deployed), each judging in the "ahead" mode. Bare and sandboxed runs are interleaved in
one process, so the machine's noise hits both alike.

Targets (issue "judge"): overhead <= 5 ms per run, >= 200 sandboxed C++ runs/s on 2 cores.

    .venv/bin/python bench/sandbox_overhead.py [-n 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor

from codebattle.judge import languages
from codebattle.judge.compiler import Compiler, Program
from codebattle.judge.sandbox import Box, Limits, PreparedRun, Sandbox

CPP = '#include <cstdio>\nint main() { std::puts("hello"); return 0; }\n'
PYTHON = 'print("hello")\n'
LIMITS = Limits(cpu_time=2, wall_time=5, memory=256 << 20)


def bare_run(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
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
        following = prepare() if i + 1 < n else None  # as the engine does
        box, prepared = current
        _check(prepared.run().stdout)
        sandbox.discard(box)
        if following is not None:
            current = following
    elapsed = time.perf_counter() - start
    sandbox.settle()
    return elapsed / n


def bare_argv(program: Program) -> list[str]:
    return [a.replace("/prog", str(program.artifacts)) for a in program.argv(LIMITS.memory)]


def measure(sandbox: Sandbox, program: Program, n: int) -> tuple[float, float, float]:
    """Median bare and cold seconds per run (interleaved), then the ahead mode's."""
    argv = bare_argv(program)
    bare, cold = [], []
    for _ in range(5):  # warm caches for both
        bare_run(argv)
        cold_run(sandbox, program)
    for _ in range(n):
        bare.append(bare_run(argv))
        cold.append(cold_run(sandbox, program))
    ahead = statistics.median(ahead_loop(sandbox, program, max(10, n // 5)) for _ in range(5))
    return statistics.median(bare), statistics.median(cold), ahead


def worker(n: int) -> float:
    """One judge worker process: runs/s of the C++ program in the ahead mode."""
    sandbox = Sandbox()
    compiled = Compiler(sandbox).compile(languages.get("cpp"), CPP)
    assert compiled.program is not None
    ahead_loop(sandbox, compiled.program, 5)
    return 1 / ahead_loop(sandbox, compiled.program, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="runs per measurement")
    args = parser.parse_args()
    sandbox = Sandbox()
    compiler = Compiler(sandbox)
    cores = os.cpu_count() or 1
    print(f"sandbox overhead, {args.n} runs each, {cores} cores")
    print(f"enforcement: {sandbox.enforcement}")
    print(
        f"{'program':<14} {'bare ms':>8} {'cold ms':>8} {'overhead':>9} {'ratio':>6}"
        f" {'ahead ms':>9} {'overhead':>9} {'ratio':>6}"
    )
    for name, lang, code in (("C++ trivial", "cpp", CPP), ("Python hello", "python", PYTHON)):
        compiled = compiler.compile(languages.get(lang), code)
        if compiled.program is None:
            raise SystemExit(f"{name} did not compile: {compiled.output}")
        bare, cold, ahead = measure(sandbox, compiled.program, args.n)
        print(
            f"{name:<14} {bare * 1e3:8.2f} {cold * 1e3:8.2f} {(cold - bare) * 1e3:9.2f}"
            f" {cold / bare:6.2f} {ahead * 1e3:9.2f} {(ahead - bare) * 1e3:9.2f}"
            f" {ahead / bare:6.2f}"
        )
    one = worker(args.n)
    with ProcessPoolExecutor(cores) as pool:
        rates = list(pool.map(worker, [args.n] * cores))
    print(
        f"sandboxed C++ runs/s: {sum(rates):.0f} with {cores} worker processes, {one:.0f} with one"
    )
    print("targets: overhead <= 5 ms, >= 200 runs/s on 2 cores")


if __name__ == "__main__":
    main()
