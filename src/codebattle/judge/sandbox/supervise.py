"""Supervision of one released program: stdin fed, stdout and stderr read with their caps,
CPU time polled, the wall clock watched, and the outcome measured into a RunResult."""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import signal
import time
from dataclasses import dataclass
from typing import Protocol

from codebattle.judge import cgroups
from codebattle.judge.sandbox.fds import Fds, drain
from codebattle.judge.sandbox.spec import Limits, RunResult

CPU_POLL_INTERVAL = 0.05  # seconds between CPU-time checks of a running sandbox


@dataclass(frozen=True)
class Exit:
    """How the supervised process ended. A program killed by signal N is reported as exit
    code 128+N with `signal` N (bubblewrap's convention, kept whoever reaps it)."""

    exit_code: int | None
    signal: int | None
    cpu_time: float  # from rusage: used when there is no CPU cgroup
    max_rss: int  # bytes, from rusage: used when there is no memory cgroup


def exit_of_bwrap(status: int, usage: resource.struct_rusage | None) -> Exit:
    """The Exit of bubblewrap's wait status: it reports signal N as exit code 128+N."""
    exit_code: int | None = None
    sig: int | None = None
    if os.WIFEXITED(status):
        exit_code = os.WEXITSTATUS(status)
        if 128 < exit_code <= 128 + 64:
            sig = exit_code - 128
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    return Exit(exit_code, sig, cpu, usage.ru_maxrss * 1024 if usage else 0)


class Watched(Protocol):
    """The process being supervised, however it was started."""

    def exit_fd(self) -> int:
        """A descriptor that becomes readable when the program has exited."""

    def kill(self) -> None:
        """Kill the program (it has not been reaped yet, or this is harmless)."""

    def reap(self) -> Exit:
        """Wait for the program's end (after `exit_fd` fired or after `kill`)."""


class ChildProcess:
    """A direct child of the judge (bubblewrap's outer process): pidfd, kill, wait4."""

    def __init__(self, pid: int, fds: Fds) -> None:
        self.pid = pid
        self._pidfd = fds.adopt(os.pidfd_open(pid))

    def exit_fd(self) -> int:
        return self._pidfd

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def reap(self) -> Exit:
        _, status, usage = os.wait4(self.pid, 0)
        return exit_of_bwrap(status, usage)


def supervise(
    process: Watched,
    started: float,
    limits: Limits,
    group: cgroups.Cgroup | None,
    out_r: int | None,
    err_r: int,
    stdin_writer: int | None,
    stdin_data: bytes | None,
    fds: Fds,
    enforcement: dict[str, str],
) -> RunResult:
    deadline = started + limits.wall_time
    stdout = bytearray()
    stderr = bytearray()
    output_exceeded = wall_exceeded = False
    sel = selectors.DefaultSelector()
    exit_fd = process.exit_fd()
    sel.register(exit_fd, selectors.EVENT_READ, "exit")
    if out_r is not None:
        sel.register(out_r, selectors.EVENT_READ, "out")
    sel.register(err_r, selectors.EVENT_READ, "err")
    pending_in = memoryview(stdin_data or b"")
    if stdin_writer is not None:
        os.set_blocking(stdin_writer, False)
        if pending_in:
            sel.register(stdin_writer, selectors.EVENT_WRITE, "in")
        else:
            fds.close(stdin_writer)
            stdin_writer = None
    exited = cpu_killed = False
    ended_at = 0.0
    # With a cgroup, CPU time of the whole tree is polled so that a multi-threaded
    # or forking program is stopped at its limit (the rlimit is per process).
    cpu_poll = CPU_POLL_INTERVAL if group and group.cpu_dir else None
    try:
        while True:
            open_pipes = len(sel.get_map()) - (0 if exited else 1)
            if exited and open_pipes == 0:
                break
            now = time.monotonic()
            timeout = deadline - now
            if timeout <= 0:
                wall_exceeded = not exited
                break
            if cpu_poll and not exited and now - started > limits.cpu_time * 0.5:
                assert group is not None
                used = group.cpu_time()
                if used is not None and used > limits.cpu_time:
                    cpu_killed = True
                    break
            if exited:
                # After exit, wait briefly for pipes held by escaped grandchildren.
                timeout = min(timeout, 0.2)
            elif cpu_poll:
                timeout = min(timeout, cpu_poll)
            events = sel.select(timeout)
            if exited and not events:
                break
            for key, _ in events:
                tag = key.data
                if tag == "exit":
                    sel.unregister(exit_fd)
                    exited = True
                    ended_at = time.monotonic()
                elif tag == "in":
                    assert stdin_writer is not None
                    try:
                        n = os.write(stdin_writer, pending_in[:65536])
                        pending_in = pending_in[n:]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        pending_in = pending_in[:0]  # the program stopped reading
                    if not pending_in:
                        sel.unregister(stdin_writer)
                        fds.close(stdin_writer)
                        stdin_writer = None
                else:
                    fd = key.fd
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        sel.unregister(fd)
                        continue
                    if tag == "out":
                        stdout += chunk
                        if len(stdout) > limits.output:
                            del stdout[limits.output :]
                            output_exceeded = True
                    elif len(stderr) < limits.stderr:
                        stderr += chunk[: limits.stderr - len(stderr)]
            if output_exceeded:
                break
        if not exited:
            process.kill()
        outcome = process.reap()
        ended_at = ended_at or time.monotonic()
        wall = ended_at - started
    finally:
        sel.close()
        fds.close_all()
    cpu = group.cpu_time() if group else None
    if cpu is None:
        cpu = outcome.cpu_time
    memory = group.peak_memory() if group else outcome.max_rss
    exit_code, sig = outcome.exit_code, outcome.signal
    killed_by_us = wall_exceeded or output_exceeded or cpu_killed
    memory_exceeded = bool(group and group.oom_killed()) or (
        not killed_by_us and exit_code != 0 and memory >= limits.memory * 0.97
    )
    return RunResult(
        exit_code=None if killed_by_us else exit_code,
        signal=None if killed_by_us else sig,
        cpu_time=cpu,
        wall_time=wall,
        memory=memory,
        stdout=bytes(stdout),
        stderr=bytes(stderr),
        wall_exceeded=wall_exceeded,
        cpu_exceeded=cpu_killed or cpu > limits.cpu_time or sig == signal.SIGXCPU,
        memory_exceeded=memory_exceeded,
        output_exceeded=output_exceeded,
        processes_exceeded=bool(group and group.pids_limited()),
        enforcement=enforcement,
        ended_at=ended_at,
    )


def kill_and_drain(pid: int | None, err_r: int | None) -> str:
    """Kill and reap a sandbox that failed or is not wanted; what it said on stderr."""
    if pid is None:
        return ""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)
    # bubblewrap says why it failed on stderr: report that, not our symptom.
    return drain(err_r).decode(errors="replace").strip()
