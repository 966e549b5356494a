"""The Sandbox: boxes, and runs of one program each in a fresh bubblewrap sandbox."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from codebattle.judge import cgroups, seccomp_filter
from codebattle.judge.sandbox.box import Box
from codebattle.judge.sandbox.command import bwrap_command, system_binds
from codebattle.judge.sandbox.fds import Fds
from codebattle.judge.sandbox.launcher import LaunchChain, build_launcher, rlimits
from codebattle.judge.sandbox.prepared import PreparedRun
from codebattle.judge.sandbox.reaper import REAPER, sweep_stale
from codebattle.judge.sandbox.session import SandboxSetup, Session
from codebattle.judge.sandbox.spawn import hand_over_pipes, spawn
from codebattle.judge.sandbox.spec import NOBODY, Bind, Limits, RunResult, SandboxError
from codebattle.judge.sandbox.supervise import kill_and_drain


class Sandbox:
    """Runs programs in bubblewrap. Thread-safe: runs may happen concurrently."""

    def __init__(self, work_root: Path | None = None, bwrap: str | None = None) -> None:
        self.bwrap = bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"
        self.drop_to = NOBODY if os.geteuid() == 0 else None
        root = work_root or Path(tempfile.gettempdir()) / f"codebattle-judge-{os.geteuid()}"
        root.mkdir(mode=0o711, parents=True, exist_ok=True)
        root.chmod(0o711)
        self.root = root
        self.launcher = build_launcher(root)
        # The launcher is also the sandbox's gate (launcher.c); kept open for every run.
        self._gate_binary = (
            os.open(self.launcher, os.O_RDONLY | os.O_CLOEXEC) if self.launcher else None
        )
        self.cgroups = cgroups.detect()
        REAPER.defer(lambda: sweep_stale(self.root, self.cgroups))
        self._system = system_binds()
        self._seccomp = seccomp_filter.bpf_program()

    @property
    def enforcement(self) -> dict[str, str]:
        cg = self.cgroups
        return {
            "memory": cg.description if cg else "rlimit (address space)",
            "processes": cg.description if cg and cg.pids_parent else "rlimit (per user)",
            "cpu_time": (cg.description if cg and cg.cpu_parent else "rusage") + " + rlimit",
            "wall_time": "watcher",
            "rlimits": "launcher" if self.launcher else "prlimit",
            "syscalls": "seccomp",
            "user": "nobody" if self.drop_to is not None else f"uid {os.geteuid()}",
        }

    @contextlib.contextmanager
    def box(self) -> Iterator[Box]:
        box = self.new_box()
        try:
            yield box
        finally:
            self.discard(box)

    def new_box(self) -> Box:
        return Box(self.root, self.drop_to)

    def discard(self, box: Box) -> None:
        """Remove a used box in the background (after its run's cgroup is emptied)."""
        REAPER.defer(box.remove)

    def settle(self) -> None:
        """Wait until every used box and cgroup is removed."""
        REAPER.settle()

    @property
    def reusable(self) -> bool:
        """Whether `session()` is available: it needs the static launcher (its zygote)."""
        return self.launcher is not None and self._gate_binary is not None

    def session(
        self,
        *,
        binds: Sequence[Bind] = (),
        env: dict[str, str] | None = None,
        tmp_size: int = Limits.tmp_size,
        box: Box | None = None,
    ) -> Session:
        """One sandbox for many runs of the same program, in a box of its own (or in `box`,
        which the caller then removes): the tests of one submission (session.py). Requires
        `reusable`. The box may be filled before the first run; later runs find it empty."""
        if self.launcher is None or self._gate_binary is None:
            raise SandboxError("reused sandboxes need the static launcher")
        setup = SandboxSetup(
            bwrap=self.bwrap,
            system=self._system,
            seccomp=self._seccomp,
            chain=LaunchChain(self.launcher, self.drop_to),
            gate_binary=self._gate_binary,
            cgroups=self.cgroups,
            enforcement=self.enforcement,
            root=self.root,
            drop_to=self.drop_to,
        )
        return Session(setup, binds=binds, env=env, tmp_size=tmp_size, box=box)

    def run(
        self,
        argv: Sequence[str],
        box: Box,
        limits: Limits,
        *,
        binds: Sequence[Bind] = (),
        env: dict[str, str] | None = None,
        stdin: int | bytes | None = None,
        stdout: int | None = None,
        close_after_spawn: Sequence[int] = (),
    ) -> RunResult:
        """Run `argv` in the box. stdin: a file descriptor, bytes, or nothing (/dev/null).
        stdout: a file descriptor to write to (e.g. a pipe to an interactor), or captured.
        close_after_spawn: the caller's copies of pipe ends the child now holds."""
        return self.prepare(
            argv,
            box,
            limits,
            binds=binds,
            env=env,
            stdin=stdin,
            stdout=stdout,
            close_after_spawn=close_after_spawn,
        ).run()

    def prepare(
        self,
        argv: Sequence[str],
        box: Box,
        limits: Limits,
        *,
        binds: Sequence[Bind] = (),
        env: dict[str, str] | None = None,
        stdin: int | bytes | None = None,
        stdout: int | None = None,
        close_after_spawn: Sequence[int] = (),
    ) -> PreparedRun:
        """Start bubblewrap now and let it build the sandbox; the program starts only when
        the returned PreparedRun's `run()` is called. Starting the next test's sandbox while
        the current one runs takes bubblewrap's set-up off the critical path."""
        fds = Fds()  # every descriptor this call opens, closed exactly once
        err_r: int | None = None
        group: cgroups.Cgroup | None = None
        pid: int | None = None
        try:
            if self.cgroups:
                group = self.cgroups.create(limits.memory, limits.processes)
            stdin_fd, stdin_writer = _stdin(stdin, fds)
            out_r, out_w = (None, stdout) if stdout is not None else fds.pipe()
            err_r, err_w = fds.pipe()
            info_r, info_w = fds.pipe()
            block_r, block_w = fds.pipe()
            # bubblewrap reads the filter from a pipe to its end: no file to leave behind.
            seccomp_fd, seccomp_w = fds.pipe()
            os.write(seccomp_w, self._seccomp)
            fds.close(seccomp_w)
            child_fds = [seccomp_fd, info_w, block_r]
            gate_r, gate_w = fds.pipe() if self._gate_binary is not None else (None, None)
            if gate_r is not None and self._gate_binary is not None:
                child_fds += [gate_r, self._gate_binary]
                # Executed through the descriptor the sandbox inherits: no mount to set up.
                # The gate executes `argv` only once the judge writes to it (launcher.c).
                gate = f"/proc/self/fd/{self._gate_binary}"
                argv = [gate, "--gate", str(gate_r), *argv]
            bind_fds = _bind_fds(binds, fds, child_fds)
            cmd = bwrap_command(
                self.bwrap, self._system, argv, box.path, limits.tmp_size, bind_fds, env, seccomp_fd
            )
            cmd[1:1] = ["--info-fd", str(info_w), "--block-fd", str(block_r)]
            chain = LaunchChain(self.launcher, self.drop_to)
            cmd = chain.prefix(rlimits(limits, group is not None)) + cmd
            hand_over_pipes(self.drop_to, stdin_fd, out_w, err_w)
            pid = spawn(cmd, stdin_fd, out_w, err_w, child_fds)
            # The child holds its copies now: close ours, so that EOFs arrive. Our end of
            # the block pipe stays open: if our byte is still in it after the run,
            # bubblewrap died in its set-up and the program never ran.
            fds.close(
                *(fd for fd in child_fds if fd != block_r),
                err_w,
                stdin_fd if not isinstance(stdin, int) else None,
            )
            if stdout is None:
                fds.close(out_w)
        except (OSError, ValueError) as exc:
            detail = kill_and_drain(pid, err_r)
            fds.close_all()
            if group:
                group.remove()
            raise SandboxError(f"could not start the sandbox: {detail or exc}") from exc
        finally:
            for fd in close_after_spawn:
                with contextlib.suppress(OSError):
                    os.close(fd)
        return PreparedRun(
            pid,
            limits,
            group,
            fds,
            out_r,
            err_r,
            info_r,
            block_r,
            block_w,
            gate_w,
            stdin_writer,
            stdin if isinstance(stdin, bytes) else None,
            self.enforcement,
        )


def _stdin(stdin: int | bytes | None, fds: Fds) -> tuple[int | None, int | None]:
    """The program's stdin descriptor, and our end of its pipe when we feed it bytes."""
    if isinstance(stdin, int):
        return stdin, None
    if stdin is None:
        return fds.open(os.devnull, os.O_RDONLY), None
    return fds.pipe()


def _bind_fds(
    binds: Sequence[Bind], fds: Fds, child_fds: list[int]
) -> list[tuple[int | None, Bind]]:
    """Single read-only files are handed over as descriptors (added to `child_fds`)."""
    out: list[tuple[int | None, Bind]] = []
    for bind in binds:
        if bind.source.is_file() and not bind.writable:
            fd = fds.open(bind.source, os.O_RDONLY)
            child_fds.append(fd)
            out.append((fd, bind))
        else:
            out.append((None, bind))
    return out
