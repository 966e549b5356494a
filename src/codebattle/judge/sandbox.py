"""Runs one untrusted program under bubblewrap, cgroups, rlimits and seccomp.

One call of `Sandbox.run` is one process tree in fresh namespaces (user, pid, net, ipc, uts,
mount, cgroup), as the host's `nobody` when the judge is root, with:
- a cleared environment and read-only binds of just what the runtime needs;
- a fresh writable box directory (the working directory) and a size-capped tmpfs /tmp;
- a seccomp deny-list (see seccomp_filter.py) and nested user namespaces disabled;
- a per-run cgroup for peak memory, process count and CPU time, or rlimits when none;
- CPU, file size, open files, core and stack rlimits, and a wall-clock watcher;
- output through pipes with a size cap.

Security rule: after untrusted code ran in a box, the judge never resolves a path inside it.
What the judge needs back (compiled artifacts, validator feedback) is read with `read_box_file`
and `copy_box_tree`, which open relative to a directory file descriptor with O_NOFOLLOW and
accept regular files only (the class of bug behind Judge0's CVE-2024-28185/28189).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import queue
import resource
import selectors
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codebattle.judge import cgroups, seccomp_filter

NOBODY = 65534
MiB = 1 << 20
FALLBACK_NPROC = 1024  # RLIMIT_NPROC when there is no pids cgroup
CPU_POLL_INTERVAL = 0.05  # seconds between CPU-time checks of a running sandbox


class SandboxError(Exception):
    """The sandbox itself failed (a judge fault: reported as IE, never blamed on the player)."""


@dataclass(frozen=True)
class Limits:
    cpu_time: float  # seconds of CPU for the whole tree
    wall_time: float
    memory: int  # bytes
    processes: int = 64  # processes and threads
    output: int = 64 * MiB  # bytes of stdout kept before the run is stopped (OLE)
    stderr: int = 64 * 1024  # bytes of stderr kept; the rest is dropped, not an error
    file_size: int = 64 * MiB
    open_files: int = 256
    tmp_size: int = 64 * MiB
    stack: int | None = None  # default: the memory limit


@dataclass(frozen=True)
class Bind:
    source: Path
    target: str
    writable: bool = False


@dataclass
class RunResult:
    exit_code: int | None
    signal: int | None
    cpu_time: float
    wall_time: float
    memory: int
    stdout: bytes
    stderr: bytes
    wall_exceeded: bool = False
    cpu_exceeded: bool = False
    memory_exceeded: bool = False
    output_exceeded: bool = False
    processes_exceeded: bool = False
    enforcement: dict[str, str] = field(default_factory=dict)
    ended_at: float = 0.0  # time.monotonic() when the process exited


def _system_binds() -> list[str]:
    """Read-only binds of the host's base system, honouring merged-/usr symlinks."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), f"/{name}"]
        elif path.is_dir():
            args += ["--ro-bind", str(path), f"/{name}"]
    # The dynamic linker's cache speeds start-up; alternatives hold the java/javac links.
    for etc in ("/etc/ld.so.cache", "/etc/alternatives"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


class Box:
    """A fresh directory for one run; the judge may fill it before the run, never after."""

    def __init__(self, root: Path, owner: int | None) -> None:
        # The owner's pid in the name lets a later judge sweep boxes of a judge that died.
        self.path = root / f"box-{os.getpid()}-{uuid.uuid4().hex}"
        self.path.mkdir(mode=0o700)
        # A box on the host's disk could be filled at disk speed for the whole wall time
        # (RLIMIT_FSIZE caps one file, not how many). As root, the box is a tmpfs:
        # its pages count towards the writer's memory cgroup (a full box is MLE) and the size
        # and inode caps bound it where there is no cgroup. Without root: a plain directory.
        self.mounted = owner is not None and _mount_box_tmpfs(self.path, owner)
        if owner is not None:
            os.chown(self.path, owner, owner)

    def put(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """Write a file before the run (nothing untrusted has touched the box yet)."""
        target = self.path / name
        target.write_bytes(data)
        target.chmod(mode)

    def remove(self) -> None:
        if self.mounted and _umount_box_tmpfs(self.path):
            with contextlib.suppress(OSError):
                self.path.rmdir()  # the empty mount point
            return
        # rmtree uses the fd-based walk on Linux: symlinks are unlinked, never followed.
        shutil.rmtree(self.path, ignore_errors=True)


BOX_SIZE = 512 * MiB  # a box's tmpfs cap (the memory limit usually binds first)
BOX_INODES = 32768


def _mount_box_tmpfs(path: Path, owner: int) -> bool:
    import ctypes  # local: only root judges mount

    libc = ctypes.CDLL(None, use_errno=True)
    options = f"size={BOX_SIZE},nr_inodes={BOX_INODES},mode=0700,uid={owner},gid={owner}"
    ms_nosuid, ms_nodev = 2, 4
    rc: int = libc.mount(
        b"tmpfs", os.fsencode(path), b"tmpfs", ms_nosuid | ms_nodev, options.encode()
    )
    return rc == 0


def _umount_box_tmpfs(path: Path) -> bool:
    import ctypes

    mnt_detach = 2  # the tmpfs and its files are freed with the last reference
    rc: int = ctypes.CDLL(None, use_errno=True).umount2(os.fsencode(path), mnt_detach)
    return rc == 0


def _owner_alive(name: str) -> bool:
    """Whether the judge whose pid starts `name` ("<pid>-<id>") still runs; unknown: yes."""
    pid = name.split("-", 1)[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_processes_using(paths: Sequence[str]) -> None:
    """SIGKILL every process whose command line names one of `paths` (the bubblewrap
    processes of a dead judge's sandboxes; killing a sandbox's init ends all of it)."""
    if not paths:
        return
    needles = [p.encode() + b"\0" for p in paths]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(needle in cmdline for needle in needles):
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)


def read_box_file(box: Box, relpath: str, max_bytes: int) -> bytes | None:
    """Read a regular file from a used box without following any symlink on the way."""
    dir_fd = os.open(box.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        parts = [p for p in relpath.split("/") if p]
        for part in parts[:-1]:
            if part in ("..", "."):
                return None
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = next_fd
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            return os.read(fd, max_bytes)
        finally:
            os.close(fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)


def copy_box_tree(box: Box, relpath: str, dest: Path, max_files: int, max_bytes: int) -> int:
    """Copy the regular files under a box folder to `dest` (symlinks and devices skipped)."""
    copied = total = 0
    base = box.path / relpath
    for top, _dirs, files, top_fd in os.fwalk(base, follow_symlinks=False):
        rel = os.path.relpath(top, base)
        for name in files:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=top_fd)
            except OSError:
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    continue
                copied += 1
                total += info.st_size
                if copied > max_files or total > max_bytes:
                    raise SandboxError("compiled output is too large")
                out = dest / rel / name
                out.parent.mkdir(parents=True, exist_ok=True)
                with open(out, "wb") as fh:
                    while chunk := os.read(fd, 1 << 20):
                        fh.write(chunk)
                out.chmod(0o755 if info.st_mode & 0o111 else 0o644)
            finally:
                os.close(fd)
    return copied


def _drain(fd: int | None, limit: int = 4096) -> bytes:
    """What a pipe already holds, without blocking."""
    if fd is None:
        return b""
    try:
        os.set_blocking(fd, False)
        return os.read(fd, limit)
    except OSError:
        return b""


class _Fds:
    """File descriptors one run opened; each is closed exactly once, errors or not."""

    def __init__(self) -> None:
        self._open: set[int] = set()

    def open(self, path: str | Path, flags: int) -> int:
        fd = os.open(path, flags)
        self._open.add(fd)
        return fd

    def release(self, fd: int) -> None:
        """The caller takes over closing `fd`."""
        self._open.discard(fd)

    def adopt(self, fd: int) -> int:
        self._open.add(fd)
        return fd

    def pipe(self) -> tuple[int, int]:
        r, w = os.pipe()
        self._open.update((r, w))
        return r, w

    def close(self, *fds: int | None) -> None:
        for fd in fds:
            if fd is not None and fd in self._open:
                self._open.discard(fd)
                with contextlib.suppress(OSError):
                    os.close(fd)

    def close_all(self) -> None:
        self.close(*list(self._open))


LAUNCHER_SOURCE = Path(__file__).with_name("launcher.c")
_PRLIMIT_NAMES = {
    resource.RLIMIT_CPU: "cpu",
    resource.RLIMIT_FSIZE: "fsize",
    resource.RLIMIT_NOFILE: "nofile",
    resource.RLIMIT_CORE: "core",
    resource.RLIMIT_STACK: "stack",
    resource.RLIMIT_MEMLOCK: "memlock",
    resource.RLIMIT_AS: "as",
    resource.RLIMIT_NPROC: "nproc",
}
_launcher_lock = threading.Lock()


def build_launcher(root: Path) -> Path | None:
    """The static launcher (launcher.c) built once into the judge's root, or None (then
    setpriv + prlimit do its job, slower) when no C compiler or static libc is there."""
    try:
        source = LAUNCHER_SOURCE.read_bytes()
    except OSError:
        return None
    target = root / f"launcher-{hashlib.sha256(source).hexdigest()[:16]}"
    with _launcher_lock:
        if target.exists():
            return target
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            return None
        tmp = root / f".launcher-{uuid.uuid4().hex}"
        try:
            built = subprocess.run(  # noqa: S603 - trusted source, argument list
                [compiler, "-O2", "-static", "-o", str(tmp), str(LAUNCHER_SOURCE)],
                capture_output=True,
                timeout=120,
                env={"PATH": "/usr/bin:/bin"},
            )
            if built.returncode != 0:
                return None
            tmp.chmod(0o755)
            tmp.rename(target)
            return target
        except (OSError, subprocess.TimeoutExpired):
            return None
        finally:
            tmp.unlink(missing_ok=True)


class _Reaper:
    """Removes used boxes and cgroups on a background thread, off the critical path of the
    next run. Removal kills whatever is left in the run's cgroup first; `settle()` waits
    until everything queued is gone (tests, shutdown)."""

    def __init__(self) -> None:
        self._reset()
        # A forked child (e.g. a worker pool) has the queue but not the thread: start anew.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def defer(self, task: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="sandbox-reaper", daemon=True
                )
                self._thread.start()
        self._queue.put(task)

    def settle(self) -> None:
        self._queue.join()

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            try:
                task()
            except Exception:  # noqa: BLE001, S110 - cleanup is best effort; never stop
                pass
            finally:
                self._queue.task_done()


REAPER = _Reaper()
atexit.register(REAPER.settle)


class Sandbox:
    """Runs programs in bubblewrap. Thread-safe: runs may happen concurrently."""

    def __init__(self, work_root: Path | None = None, bwrap: str | None = None) -> None:
        self.bwrap = bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"
        self.prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
        self.setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
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
        REAPER.defer(self._sweep_stale)
        self._system = _system_binds()
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

    def _sweep_stale(self) -> None:
        """Kill the sandboxes and remove the boxes and cgroups left by judges that died
        (killed mid-run)."""
        stale = [
            p for p in self.root.glob("box-*") if not _owner_alive(p.name.removeprefix("box-"))
        ]
        _kill_processes_using([str(p) for p in stale])
        for path in stale:
            box = Box.__new__(Box)
            box.path, box.mounted = path, path.is_mount()
            box.remove()
        if self.cgroups:
            self.cgroups.sweep(lambda name: _owner_alive(name.removeprefix("codebattle-")))

    def settle(self) -> None:
        """Wait until every used box and cgroup is removed."""
        REAPER.settle()

    def command(
        self,
        argv: Sequence[str],
        box: Box,
        limits: Limits,
        bind_fds: Sequence[tuple[int | None, Bind]] = (),
        env: dict[str, str] | None = None,
        seccomp_fd: int | None = None,
        gate_fd: int | None = None,
    ) -> list[str]:
        """The bubblewrap command line. Folders are bound by path (the judge's own folders,
        which nobody can traverse); single files, such as test data, are handed over as file
        descriptors the judge opened (`--ro-bind-data`), so their folders may stay private.
        With `gate_fd`, the launcher runs first in the sandbox and executes `argv` only once
        the judge writes to that descriptor (launcher.c)."""
        args = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--uid",
            str(NOBODY),
            "--gid",
            str(NOBODY),
            "--hostname",
            "judge",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--cap-drop",
            "ALL",
            *self._system,
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            # /dev/shm gets its own capped tmpfs: /dev itself is made read-only below.
            "--size",
            str(limits.tmp_size),
            "--tmpfs",
            "/dev/shm",
            "--size",
            str(limits.tmp_size),
            "--tmpfs",
            "/tmp",
            "--bind",
            str(box.path),
            "/box",
            "--chdir",
            "/box",
        ]
        for fd, bind in bind_fds:
            if fd is not None:
                args += ["--ro-bind-data", str(fd), bind.target]
            else:
                flag = "--bind" if bind.writable else "--ro-bind"
                args += [flag, str(bind.source), bind.target]
        if gate_fd is not None and self._gate_binary is not None:
            # Executed through the descriptor the sandbox inherits: no mount to set up.
            gate = f"/proc/self/fd/{self._gate_binary}"
            argv = [gate, "--gate", str(gate_fd), *argv]
        # bubblewrap's root and /dev are tmpfs the sandbox's user owns, with no size cap:
        # make both read-only once every mount point exists, so writing /, /etc, /data or
        # /dev fails. /tmp, /box,
        # /dev/shm and the device nodes are mounts of their own and stay writable.
        args += ["--remount-ro", "/dev", "--remount-ro", "/"]
        base_env = {"PATH": "/usr/bin:/bin", "HOME": "/box", "LANG": "C.UTF-8", "TMPDIR": "/tmp"}
        for key, value in {**base_env, **(env or {})}.items():
            args += ["--setenv", key, value]
        if seccomp_fd is not None:
            args += ["--seccomp", str(seccomp_fd)]
        return [*args, "--", *argv]

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
        fds = _Fds()  # every descriptor this call opens, closed exactly once
        err_r: int | None = None
        group: cgroups.Cgroup | None = None
        pid: int | None = None
        try:
            if self.cgroups:
                group = self.cgroups.create(limits.memory, limits.processes)
            stdin_fd, stdin_writer = self._stdin(stdin, fds)
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
            bind_fds: list[tuple[int | None, Bind]] = []
            for bind in binds:
                if bind.source.is_file() and not bind.writable:
                    fd = fds.open(bind.source, os.O_RDONLY)
                    child_fds.append(fd)
                    bind_fds.append((fd, bind))
                else:
                    bind_fds.append((None, bind))
            cmd = self.command(argv, box, limits, bind_fds, env, seccomp_fd, gate_r)
            cmd[1:1] = ["--info-fd", str(info_w), "--block-fd", str(block_r)]
            cmd = self._launch_prefix(self._rlimits(limits, group is not None)) + cmd
            self._hand_over_pipes(stdin_fd, out_w, err_w)
            pid = self._spawn(cmd, stdin_fd, out_w, err_w, child_fds)
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
            detail = _kill_and_drain(pid, err_r)
            fds.close_all()
            if group:
                group.remove()
            raise SandboxError(f"could not start the sandbox: {detail or exc}") from exc
        finally:
            for fd in close_after_spawn:
                with contextlib.suppress(OSError):
                    os.close(fd)
        return PreparedRun(
            self,
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
        )

    @staticmethod
    def _confine(info_r: int, group: cgroups.Cgroup | None) -> None:
        """Put the sandbox's init process in the cgroup while it waits on --block-fd,
        before it starts the program (which inherits the group)."""
        info = b""
        while chunk := os.read(info_r, 4096):
            info += chunk
        try:
            child = int(json.loads(info)["child-pid"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SandboxError(f"bubblewrap did not report its child: {info[:200]!r}") from exc
        if group:
            data = str(child).encode()
            for path in group.procs_files:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)

    def _hand_over_pipes(self, *fds: int | None) -> None:
        """A pipe belongs to whoever made it, the judge: give the program's stdin, stdout and
        stderr pipes to the sandbox's user, so that it may open /dev/stdout and the like
        (which reopen them). Other files, /dev/null included, are left alone."""
        if self.drop_to is None:
            return
        for fd in fds:
            if fd is not None and stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.fchown(fd, self.drop_to, self.drop_to)

    @staticmethod
    def _stdin(stdin: int | bytes | None, fds: _Fds) -> tuple[int | None, int | None]:
        if isinstance(stdin, int):
            return stdin, None
        if stdin is None:
            return fds.open(os.devnull, os.O_RDONLY), None
        return fds.pipe()

    @staticmethod
    def _rlimits(limits: Limits, has_cgroup: bool) -> dict[int, int]:
        cpu = int(limits.cpu_time) + 1  # a backstop: the cgroup's CPU time decides TLE
        values = {
            resource.RLIMIT_CPU: cpu,
            resource.RLIMIT_FSIZE: limits.file_size,
            resource.RLIMIT_NOFILE: limits.open_files,
            resource.RLIMIT_CORE: 0,
            resource.RLIMIT_STACK: limits.stack or limits.memory,
            resource.RLIMIT_MEMLOCK: 0,
        }
        if not has_cgroup:
            values[resource.RLIMIT_AS] = limits.memory
            # RLIMIT_NPROC counts every process of the user on the host (all sandboxes and
            # exiting ones), so it is only a coarse fork-bomb brake here.
            values[resource.RLIMIT_NPROC] = max(limits.processes, FALLBACK_NPROC)
        return values

    def _launch_prefix(self, rlimits: dict[int, int]) -> list[str]:
        """What runs before bubblewrap: it sets the rlimits and drops to nobody, since the
        judge may lack CAP_SYS_RESOURCE to set another user's limits afterwards."""
        if self.launcher is not None:
            uid = str(self.drop_to if self.drop_to is not None else -1)
            return [str(self.launcher), uid, *(f"{r}={v}" for r, v in rlimits.items()), "--"]
        # Fallback: util-linux setpriv drops to nobody and, as the launcher, has the sandbox
        # killed when the judge dies; prlimit lowers its own limits.
        names = _PRLIMIT_NAMES
        prefix = [self.setpriv, "--pdeathsig=KILL"]
        if self.drop_to is not None:
            uid = str(self.drop_to)
            prefix += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        return [
            *prefix,
            self.prlimit,
            *(f"--{names[r]}={v}:{v}" for r, v in rlimits.items()),
            "--",
        ]

    def _spawn(
        self,
        cmd: list[str],
        stdin_fd: int | None,
        out_w: int | None,
        err_w: int,
        pass_fds: list[int],
    ) -> int:
        """Start the launch chain. Popen without user= or preexec_fn can use vfork (no copy
        of the judge's memory), and close_fds keeps every descriptor but `pass_fds` away from
        the sandbox. bubblewrap itself runs as nobody: the user namespace it creates maps to
        nobody, so nothing in the sandbox is ever root on the host."""
        proc = subprocess.Popen(  # noqa: S603 - an argument list, never a shell string
            cmd,
            stdin=stdin_fd,
            stdout=out_w,
            stderr=err_w,
            pass_fds=pass_fds,
            close_fds=True,
            env={},
            start_new_session=True,
        )
        # We reap the child ourselves with wait4 (for rusage); tell Popen it is done.
        proc.returncode = 0
        pid: int = proc.pid
        return pid

    def _supervise(
        self,
        pid: int,
        started: float,
        limits: Limits,
        group: cgroups.Cgroup | None,
        out_r: int | None,
        err_r: int,
        stdin_writer: int | None,
        stdin_data: bytes | None,
        fds: _Fds,
    ) -> RunResult:
        deadline = started + limits.wall_time
        stdout = bytearray()
        stderr = bytearray()
        output_exceeded = wall_exceeded = False
        sel = selectors.DefaultSelector()
        pidfd = os.pidfd_open(pid)
        fds.adopt(pidfd)
        sel.register(pidfd, selectors.EVENT_READ, "exit")
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
                        sel.unregister(pidfd)
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
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            ended_at = ended_at or time.monotonic()
            wall = ended_at - started
        finally:
            sel.close()
            fds.close_all()
        cpu = group.cpu_time() if group else None
        if cpu is None:
            cpu = usage.ru_utime + usage.ru_stime
        memory = group.peak_memory() if group else usage.ru_maxrss * 1024
        exit_code: int | None = None
        sig: int | None = None
        if os.WIFEXITED(status):
            exit_code = os.WEXITSTATUS(status)
            # bubblewrap reports a child killed by signal N as exit code 128+N.
            if 128 < exit_code <= 128 + 64:
                sig = exit_code - 128
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
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
            enforcement=self.enforcement,
            ended_at=ended_at,
        )


class PreparedRun:
    """A sandbox whose bubblewrap is set up and waiting on --block-fd. Call `run()` or
    `cancel()` exactly once. If the judge dies first, the gate sees end-of-file and the
    program never runs."""

    def __init__(
        self,
        sandbox: Sandbox,
        pid: int,
        limits: Limits,
        group: cgroups.Cgroup | None,
        fds: _Fds,
        out_r: int | None,
        err_r: int,
        info_r: int,
        block_r: int,
        block_w: int,
        gate_w: int | None,
        stdin_writer: int | None,
        stdin_data: bytes | None,
    ) -> None:
        self.sandbox = sandbox
        self.pid = pid
        self.limits = limits
        self.group = group
        self.fds = fds
        self.out_r, self.err_r = out_r, err_r
        self.info_r, self.block_r, self.block_w = info_r, block_r, block_w
        self.gate_w = gate_w
        self.stdin_writer, self.stdin_data = stdin_writer, stdin_data
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
            self.sandbox._confine(self.info_r, self.group)
            self._started = time.monotonic()
            if self.gate_w is not None:
                os.write(self.gate_w, b"g")  # the gate may now execute the program
            os.write(self.block_w, b"g")  # bubblewrap may now start the gate (or program)
            self.fds.close(self.info_r, self.block_w, self.gate_w)
        except (OSError, ValueError, SandboxError) as exc:
            detail = _kill_and_drain(self.pid, self.err_r)
            self._release_resources()
            raise SandboxError(f"could not start the sandbox: {detail or exc}") from exc

    def wait(self) -> RunResult:
        """Supervise the released program to its end (limits, output, exit)."""
        if self._started is None:
            raise SandboxError("wait() before start()")
        fds = self.fds
        fds.release(self.block_r)
        try:
            result = self.sandbox._supervise(
                self.pid,
                self._started,
                self.limits,
                self.group,
                self.out_r,
                self.err_r,
                self.stdin_writer,
                self.stdin_data,
                fds,
            )
            if _drain(self.block_r):
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
        _kill_and_drain(self.pid, None)
        self.fds.close_all()
        if self.group:
            self.group.remove()


def _kill_and_drain(pid: int | None, err_r: int | None) -> str:
    """Kill and reap a sandbox that failed or is not wanted; what it said on stderr."""
    if pid is None:
        return ""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)
    # bubblewrap says why it failed on stderr: report that, not our symptom.
    return _drain(err_r).decode(errors="replace").strip()
