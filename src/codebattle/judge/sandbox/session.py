"""One sandbox reused for the runs of one program (the tests of one submission).

bubblewrap builds the namespaces and mounts once and runs the launcher as a zygote, pid 1 of
the sandbox (launcher.c). The zygote keeps a standby child ready and hands us its socket;
the child reports its pid (the kernel translates it into ours), we move it into the run's
fresh cgroup, and only then send it the run: rlimits, argv, stdin, stdout and stderr. It sets
them up and executes the program; the zygote reports its end. Once we are done with a run
("C"), the zygote kills whatever it left and empties /box, /tmp, /dev/shm and the System V
IPC objects (while the judge grades the run), then forks the next standby child. A session
belongs to one submission and is closed after its last test; when the zygote cannot clean
up, the session starts over in a fresh sandbox before the program has run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from codebattle.judge import cgroups
from codebattle.judge.sandbox.box import Box
from codebattle.judge.sandbox.command import bwrap_command
from codebattle.judge.sandbox.fds import Fds, drain
from codebattle.judge.sandbox.launcher import LaunchChain, rlimits
from codebattle.judge.sandbox.reaper import REAPER
from codebattle.judge.sandbox.spawn import hand_over_pipes, spawn
from codebattle.judge.sandbox.spec import Bind, Limits, RunResult, SandboxError
from codebattle.judge.sandbox.supervise import Exit, supervise

REPLY_BYTES = 4096
REAP_TIMEOUT = 10.0  # seconds for the zygote to report a killed program's end
SETUP_TIMEOUT = 30.0  # seconds for bubblewrap's set-up or the zygote's clean-up
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class SessionBroken(SandboxError):
    """The session's sandbox cannot take another run (before the program ran)."""


@dataclass(frozen=True)
class SandboxSetup:
    """What a Sandbox lends a session to build its bubblewrap sandboxes."""

    bwrap: str
    system: Sequence[str]
    seccomp: bytes
    chain: LaunchChain
    gate_binary: int  # the launcher, opened: the zygote is executed from it
    cgroups: cgroups.CgroupFactory | None
    enforcement: dict[str, str]
    root: Path
    drop_to: int | None

    def new_box(self) -> Box:
        return Box(self.root, self.drop_to)


class _ZygoteChild:
    """The program of one run, a child of the zygote: killed through its pidfd, reaped by
    the zygote, which reports the status on the run's socket."""

    def __init__(self, pidfd: int, sock: socket.socket) -> None:
        self._pidfd = pidfd
        self._sock = sock

    def exit_fd(self) -> int:
        return self._sock.fileno()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # already reaped by the zygote
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def reap(self) -> Exit:
        self._sock.settimeout(REAP_TIMEOUT)
        try:
            reply = self._sock.recv(REPLY_BYTES)
        except OSError as exc:
            raise SessionBroken(f"the sandbox did not report the end of the run: {exc}") from exc
        if reply.startswith(b"E"):  # the child could not set the run up
            raise SandboxError(f"could not start the program: {reply[1:].decode().strip()}")
        fields = reply.split()
        if len(fields) != 5 or fields[0] != b"X":
            raise SessionBroken(f"the sandbox ended during the run: {reply[:200]!r}")
        status, utime, stime, maxrss = (int(f) for f in fields[1:])
        exit_code: int | None = None
        sig: int | None = None
        if os.WIFEXITED(status):
            exit_code = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            exit_code = 128 + sig  # as bubblewrap reports it on the fresh-sandbox path
        return Exit(exit_code, sig, (utime + stime) / 1e6, maxrss * 1024)


class _Standby:
    """The zygote's child waiting for its run, taken over by the judge: its socket, a pidfd
    and the fresh cgroup it was moved into (with the limits it was made for)."""

    def __init__(self, sock: socket.socket, limits: tuple[int, int]) -> None:
        self.sock = sock
        self.limits = limits
        self.pidfd = -1
        self.group: cgroups.Cgroup | None = None

    def discard(self) -> None:
        """Give it up: on end-of-file it exits without running anything."""
        self.sock.close()
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        if self.group is not None:
            REAPER.defer(self.group.remove)
            self.group = None


_helpers: tuple[int, ThreadPoolExecutor] | None = None
_helpers_lock = threading.Lock()


def _helper() -> ThreadPoolExecutor:
    """Threads that take over standby children while the judge grades: one per judging
    running at once, up to 32 (per process: a forked worker pool starts its own)."""
    global _helpers
    with _helpers_lock:
        if _helpers is None or _helpers[0] != os.getpid():
            pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="sandbox-standby")
            _helpers = (os.getpid(), pool)
        return _helpers[1]


class Session:
    """A sandbox for many runs, one after another, from one thread. Use as a context
    manager; `run()` as often as needed; never share one between submissions."""

    def __init__(
        self,
        setup: SandboxSetup,
        *,
        binds: Sequence[Bind] = (),
        env: dict[str, str] | None = None,
        tmp_size: int = Limits.tmp_size,
        box: Box | None = None,
    ) -> None:
        self._setup = setup
        self._binds = list(binds)
        self._env = env
        self._tmp_size = tmp_size
        # A box the caller gives is the caller's to remove (and to read after the runs).
        self.box = box or setup.new_box()
        self._own_box = box is None
        # The next run's standby child, taken over (its pid read, moved into a fresh
        # cgroup) on a helper thread while the judge grades the current run.
        self._next: Future[_Standby] | None = None
        self._limits_hint = (0, 0)  # (memory, processes) of the last run
        self._control: socket.socket | None = None
        self._pid: int | None = None
        self._err_r: int | None = None
        self._answers = 0  # "S" or "B" answers the zygote owes us
        self._used_groups: list[cgroups.Cgroup] = []  # the runs' groups, removed at the end
        self.runs = 0
        self.starts = 0
        self._start()

    # -- the sandbox -------------------------------------------------------------------------

    def _start(self) -> None:
        """Start bubblewrap with the zygote; it builds the sandbox while we go on."""
        setup = self._setup
        fds = Fds()
        control, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            err_r, err_w = fds.pipe()
            null = fds.open(os.devnull, os.O_RDONLY)
            seccomp_fd, seccomp_w = fds.pipe()
            os.write(seccomp_w, setup.seccomp)
            fds.close(seccomp_w)
            child_fds = [seccomp_fd, zygote_end.fileno(), setup.gate_binary]
            bind_fds: list[tuple[int | None, Bind]] = []
            for bind in self._binds:
                if bind.source.is_file() and not bind.writable:
                    fd = fds.open(bind.source, os.O_RDONLY)
                    child_fds.append(fd)
                    bind_fds.append((fd, bind))
                else:
                    bind_fds.append((None, bind))
            zygote = [
                f"/proc/self/fd/{setup.gate_binary}",
                "--zygote",
                str(zygote_end.fileno()),
            ]
            cmd = bwrap_command(
                setup.bwrap,
                setup.system,
                zygote,
                self.box.path,
                self._tmp_size,
                bind_fds,
                self._env,
                seccomp_fd,
            )
            cmd[1:1] = ["--as-pid-1"]
            # No rlimits for the sandbox itself: each run's child sets its own.
            cmd = setup.chain.prefix({}) + cmd
            self._pid = spawn(cmd, null, err_w, err_w, child_fds)
            fds.release(err_r)
            self._err_r = err_r
        except (OSError, ValueError) as exc:
            control.close()
            raise SandboxError(f"could not start the sandbox: {exc}") from exc
        finally:
            fds.close_all()
            zygote_end.close()
        self._control = control
        self._answers = 1  # the zygote makes its first standby child unasked
        self.starts += 1

    def _stop(self) -> None:
        """End the sandbox: the zygote sees end-of-file and exits, and with it, as pid 1,
        everything in the sandbox. Waiting for it and removing the box happen off the
        critical path."""
        if self._control is not None:
            self._control.close()
            self._control = None
        pid, err_r = self._pid, self._err_r
        box = self.box if self._own_box else None
        groups, self._used_groups = self._used_groups, []
        self._pid = self._err_r = None

        def reap() -> None:
            if pid is not None:
                os.waitpid(pid, 0)
            for group in groups:
                group.remove()  # kills anything left (nothing: the namespace is gone)
            if err_r is not None:
                os.close(err_r)
            if box is not None:
                box.remove()

        REAPER.defer(reap)

    def _restart(self) -> None:
        self._discard_next()
        self._stop()
        self.box = self._setup.new_box()
        self._own_box = True
        self._start()

    def close(self) -> None:
        self._discard_next()
        self._stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs ----------------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        stdin: int | bytes | None = None,
        keep: bool = False,
    ) -> RunResult:
        """Run `argv` in the session's sandbox (stdin: a descriptor, bytes or nothing).
        The sandbox is cleaned up right after the run, or with `keep` only when the next run
        starts (so that the caller can read the box first, with read_box_file). A sandbox
        that cannot take the run before the program started is replaced by a fresh one,
        once."""
        try:
            return self._run(argv, limits, stdin, keep)
        except SessionBroken:
            self._restart()
        return self._run(argv, limits, stdin, keep)

    def _run(
        self, argv: Sequence[str], limits: Limits, stdin: int | bytes | None, keep: bool
    ) -> RunResult:
        if self._control is None:
            raise SandboxError("the session is closed")
        setup = self._setup
        fds = Fds()
        standby = self._standby(limits)
        fds.adopt(standby.pidfd)
        try:
            if isinstance(stdin, int):
                stdin_fd, stdin_writer = stdin, None
            elif stdin is None:
                stdin_fd, stdin_writer = fds.open(os.devnull, os.O_RDONLY), None
            else:
                stdin_fd, stdin_writer = fds.pipe()
            out_r, out_w = fds.pipe()
            err_r, err_w = fds.pipe()
            hand_over_pipes(setup.drop_to, stdin_fd, out_w, err_w)
            values = rlimits(limits, standby.group is not None)
            items = [str(len(values)), *(f"{r}={v}" for r, v in values.items())]
            items += [str(len(argv)), *argv]
            request = b"".join(os.fsencode(item) + b"\0" for item in items)
            # The clock starts before the child may: taken after the send, a judge thread
            # that lost the CPU (or the GIL) meanwhile measured a run that had already ended
            # as lasting no time at all (wall time 0.0 s for 0.5 ms of CPU).
            started = time.monotonic()
            try:
                socket.send_fds(standby.sock, [request], [stdin_fd, out_w, err_w])
            finally:
                fds.close(out_w, err_w, stdin_fd if not isinstance(stdin, int) else None)
            result = supervise(
                _ZygoteChild(standby.pidfd, standby.sock),
                started,
                limits,
                standby.group,
                out_r,
                err_r,
                stdin_writer,
                stdin if isinstance(stdin, bytes) else None,
                fds,
                setup.enforcement,
            )
            self.runs += 1
            if not keep:  # done with this run: the zygote cleans up while the judge grades
                self._clean_up()
                self._next = _helper().submit(self._take_standby, self._limits_hint)
            return result
        except SessionBroken:
            raise
        except (OSError, ValueError) as exc:
            raise SandboxError(f"could not run in the sandbox: {exc}") from exc
        finally:
            fds.close_all()
            standby.sock.close()
            if standby.group:
                # Removed with the session: removing a memory cgroup while the next run's
                # child is moved into its own stalls that move (the cgroup lock).
                self._used_groups.append(standby.group)

    def _standby(self, limits: Limits) -> _Standby:
        """The child that will run the program, in a cgroup with the run's limits."""
        self._limits_hint = (limits.memory, limits.processes)
        future, self._next = self._next, None
        try:
            if future is not None:
                standby = future.result()  # SessionBroken if the zygote could not clean up
            else:
                if self._answers == 0:  # the last run was kept (or failed): clean up now
                    self._clean_up()
                standby = self._take_standby(self._limits_hint)
        except OSError as exc:
            raise SandboxError(f"could not prepare the run: {exc}") from exc
        if standby.group is not None and standby.limits != self._limits_hint:
            try:
                standby.group.set_limits(limits.memory, limits.processes)
            except OSError as exc:
                standby.discard()
                raise SandboxError(f"could not set the run's limits: {exc}") from exc
        return standby

    def _clean_up(self) -> None:
        """Ask the zygote to clean up after the last run and make the next standby child."""
        assert self._control is not None
        try:
            self._control.send(b"C")
        except OSError as exc:
            raise SessionBroken(f"the sandbox is gone: {self._reason() or exc}") from exc
        self._answers += 1

    def _take_standby(self, limits: tuple[int, int]) -> _Standby:
        """Take over the zygote's next standby child: its socket, its pid (from the
        credentials of its "P"), a pidfd, and a fresh cgroup it is moved into. Runs on the
        helper thread while the judge grades a run, else right before the run."""
        control = self._control
        assert control is not None and self._answers > 0
        self._answers -= 1
        control.settimeout(SETUP_TIMEOUT)
        try:
            reply, passed, _, _ = socket.recv_fds(control, REPLY_BYTES, 1)
        except OSError as exc:
            raise SessionBroken(f"the sandbox did not answer: {exc}") from exc
        finally:
            control.settimeout(None)
        if reply != b"S" or len(passed) != 1:
            for fd in passed:
                os.close(fd)
            if reply.startswith(b"B"):
                raise SessionBroken(reply[1:].decode(errors="replace").strip())
            raise SessionBroken(f"could not start the sandbox: {self._reason() or reply[:100]!r}")
        standby = _Standby(socket.socket(fileno=passed[0]), limits)
        try:
            pid = _child_pid(standby.sock)
            standby.pidfd = os.pidfd_open(pid)
            factory = self._setup.cgroups
            if factory is not None:
                standby.group = factory.create(*limits)
                standby.group.add(pid)  # before it has its run, so before the program
        except BaseException:
            standby.discard()
            raise
        return standby

    def _discard_next(self) -> None:
        """Let go of a standby child taken over ahead that no run will use."""
        future, self._next = self._next, None
        if future is None:
            return
        try:
            standby = future.result()
        except SandboxError:
            return
        standby.discard()

    def _reason(self) -> str:
        """What bubblewrap said on stderr when it failed to set the sandbox up."""
        return drain(self._err_r).decode(errors="replace").strip()


def _child_pid(sock: socket.socket) -> int:
    """The standby child's pid in our namespace, from the credentials of its "P"."""
    sock.settimeout(SETUP_TIMEOUT)
    try:
        reply, ancdata, _, _ = sock.recvmsg(REPLY_BYTES, socket.CMSG_SPACE(_UCRED.size))
    except OSError as exc:
        raise SessionBroken(f"the sandbox's standby did not answer: {exc}") from exc
    finally:
        sock.settimeout(None)
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and reply == b"P":
            pid: int = _UCRED.unpack(data[: _UCRED.size])[0]
            if pid > 0:
                return pid
    raise SessionBroken(f"the sandbox's standby sent {reply[:100]!r} without its pid")
