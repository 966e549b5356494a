"""A sandbox set up ahead of its run: bubblewrap waits on --block-fd until released."""

from __future__ import annotations

import json
import os
import time

from codebattle.judge import cgroups
from codebattle.judge.sandbox.fds import Fds, drain
from codebattle.judge.sandbox.reaper import REAPER
from codebattle.judge.sandbox.spec import Limits, RunResult, SandboxError
from codebattle.judge.sandbox.supervise import ChildProcess, kill_and_drain, supervise


def read_child_pid(info_r: int) -> int:
    """The pid of the sandbox's init, from bubblewrap's --info-fd (read to its end)."""
    info = b""
    while chunk := os.read(info_r, 4096):
        info += chunk
    try:
        return int(json.loads(info)["child-pid"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SandboxError(f"bubblewrap did not report its child: {info[:200]!r}") from exc


class PreparedRun:
    """A sandbox whose bubblewrap is set up and waiting on --block-fd. Call `run()` or
    `cancel()` exactly once. If the judge dies first, the gate sees end-of-file and the
    program never runs."""

    def __init__(
        self,
        pid: int,
        limits: Limits,
        group: cgroups.Cgroup | None,
        fds: Fds,
        out_r: int | None,
        err_r: int,
        info_r: int,
        block_r: int,
        block_w: int,
        gate_w: int | None,
        stdin_writer: int | None,
        stdin_data: bytes | None,
        enforcement: dict[str, str],
    ) -> None:
        self.pid = pid
        self.limits = limits
        self.group = group
        self.fds = fds
        self.out_r, self.err_r = out_r, err_r
        self.info_r, self.block_r, self.block_w = info_r, block_r, block_w
        self.gate_w = gate_w
        self.stdin_writer, self.stdin_data = stdin_writer, stdin_data
        self.enforcement = enforcement
        self._done = False
        self._started: float | None = None

    def run(self) -> RunResult:
        """Release the program and supervise it to the end."""
        self.start()
        return self.wait()

    def start(self) -> None:
        """Release the program: it runs from now on; `wait()` supervises it."""
        if self._done:
            raise SandboxError("a prepared run can run only once")
        self._done = True
        try:
            # The sandbox's init joins the cgroup while it waits on --block-fd, before it
            # starts the program (which inherits the group).
            child = read_child_pid(self.info_r)
            if self.group:
                self.group.add(child)
            self._started = time.monotonic()
            if self.gate_w is not None:
                os.write(self.gate_w, b"g")  # the gate may now execute the program
            os.write(self.block_w, b"g")  # bubblewrap may now start the gate (or program)
            self.fds.close(self.info_r, self.block_w, self.gate_w)
        except (OSError, ValueError, SandboxError) as exc:
            detail = kill_and_drain(self.pid, self.err_r)
            self._release_resources()
            raise SandboxError(f"could not start the sandbox: {detail or exc}") from exc

    def wait(self) -> RunResult:
        """Supervise the released program to its end (limits, output, exit)."""
        if self._started is None:
            raise SandboxError("wait() before start()")
        fds = self.fds
        fds.release(self.block_r)
        try:
            result = supervise(
                ChildProcess(self.pid, fds),
                self._started,
                self.limits,
                self.group,
                self.out_r,
                self.err_r,
                self.stdin_writer,
                self.stdin_data,
                fds,
                self.enforcement,
            )
            if drain(self.block_r):
                reason = result.stderr.decode(errors="replace").strip()[:500]
                raise SandboxError(f"could not start the sandbox: {reason or 'set-up failed'}")
            return result
        finally:
            os.close(self.block_r)
            self._release_resources()

    def _release_resources(self) -> None:
        self.fds.close_all()
        if self.group:
            REAPER.defer(self.group.remove)  # kills anything left, then removes the group
            self.group = None

    def cancel(self) -> None:
        """Discard the sandbox without running the program."""
        if self._done:
            return
        self._done = True
        kill_and_drain(self.pid, None)
        self.fds.close_all()
        if self.group:
            self.group.remove()
