"""Per-run control groups: peak memory, process count and CPU time of a whole sandbox.

Detects cgroup v2 (one unified tree with the memory and pids controllers) or v1 (one tree per
controller). Each run gets its own group below the judge's own; the sandboxed process joins
it before it executes anything (see `Cgroup.procs_files`). When no usable tree can be written,
`detect()` returns None and the sandbox falls back to rlimits, saying so in every result.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_paths() -> dict[str, str]:
    """Controller name -> this process's cgroup path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read_text(path: Path) -> str:
    """A small control file, read with two system calls (these are read on every run)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


def _read_int(path: Path, default: int = 0) -> int:
    try:
        return int(_read_text(path).split()[0])
    except (OSError, ValueError, IndexError):
        return default


def _read_keyed(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in _read_text(path).splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                out[key] = int(value)
    except OSError:
        pass
    return out


def _writable_dir(path: Path) -> bool:
    probe = path / f"codebattle-probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.rmdir()
    return True


@dataclass
class Cgroup:
    """One run's group(s). v1 has a directory per controller; v2 a single one."""

    version: int
    memory_dir: Path | None
    pids_dir: Path | None
    cpu_dir: Path | None

    @property
    def dirs(self) -> list[Path]:
        seen: list[Path] = []
        for d in (self.memory_dir, self.pids_dir, self.cpu_dir):
            if d is not None and d not in seen:
                seen.append(d)
        return seen

    @property
    def procs_files(self) -> list[bytes]:
        """Files the child writes its pid to, before it executes the sandbox."""
        return [os.fsencode(d / "cgroup.procs") for d in self.dirs]

    def add(self, pid: int) -> None:
        """Move process `pid` (a host pid) into the group, before it executes anything."""
        data = str(pid).encode()
        for path in self.procs_files:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)

    def set_limits(self, memory_limit: int, process_limit: int) -> None:
        """The memory (without swap) and process limits of the group."""
        if self.memory_dir is not None:
            if self.version == 1:
                # memsw may never be below the memory limit: raise it first, lower it last.
                # Without swap accounting memsw does not exist; swap is then the host's.
                memsw = self.memory_dir / "memory.memsw.limit_in_bytes"
                with contextlib.suppress(OSError):
                    _write(memsw, str(memory_limit))
                _write(self.memory_dir / "memory.limit_in_bytes", str(memory_limit))
                with contextlib.suppress(OSError):
                    _write(memsw, str(memory_limit))
            else:
                _write(self.memory_dir / "memory.max", str(memory_limit))
                with contextlib.suppress(OSError):
                    _write(self.memory_dir / "memory.swap.max", "0")
        if self.pids_dir is not None:
            _write(self.pids_dir / "pids.max", str(process_limit))

    def peak_memory(self) -> int:
        if self.memory_dir is None:
            return 0
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        return _read_int(self.memory_dir / name)

    def cpu_time(self) -> float | None:
        if self.cpu_dir is None:
            return None
        if self.version == 1:
            return _read_int(self.cpu_dir / "cpuacct.usage") / 1e9
        usage = _read_keyed(self.cpu_dir / "cpu.stat").get("usage_usec")
        return None if usage is None else usage / 1e6

    def oom_killed(self) -> bool:
        if self.memory_dir is None:
            return False
        if self.version == 1:
            control = _read_keyed(self.memory_dir / "memory.oom_control")
            return control.get("oom_kill", 0) > 0
        events = _read_keyed(self.memory_dir / "memory.events")
        return events.get("oom_kill", 0) > 0 or events.get("oom_group_kill", 0) > 0

    def pids_limited(self) -> bool:
        """True when a fork or clone was refused because of the process limit."""
        if self.pids_dir is None:
            return False
        return _read_keyed(self.pids_dir / "pids.events").get("max", 0) > 0

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for d in self.dirs:
            try:
                pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                continue
        return sorted(pids)

    def kill_all(self) -> None:
        """Kill every process still in the group (double-forked orphans included)."""
        if self.version == 2 and self.memory_dir is not None:
            with contextlib.suppress(OSError):
                _write(self.memory_dir / "cgroup.kill", "1")
        for _ in range(50):
            pids = self.processes()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.0005)  # killed tasks leave the group asynchronously

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.002)  # the last tasks are still exiting


class CgroupFactory:
    """Creates per-run groups below the judge's own group."""

    def __init__(
        self, version: int, memory: Path | None, pids: Path | None, cpu: Path | None
    ) -> None:
        self.version = version
        self.memory_parent = memory
        self.pids_parent = pids
        self.cpu_parent = cpu

    @property
    def description(self) -> str:
        return f"cgroup v{self.version}"

    def create(self, memory_limit: int, process_limit: int) -> Cgroup:
        name = f"codebattle-{os.getpid()}-{uuid.uuid4().hex[:16]}"
        dirs: dict[Path, Path] = {}

        def child(parent: Path | None) -> Path | None:
            if parent is None:
                return None
            if parent not in dirs:
                path = parent / name
                path.mkdir(mode=0o755)
                dirs[parent] = path
            return dirs[parent]

        group = Cgroup(
            self.version,
            child(self.memory_parent),
            child(self.pids_parent),
            child(self.cpu_parent),
        )
        try:
            group.set_limits(memory_limit, process_limit)
        except OSError:
            group.remove()
            raise
        return group

    def sweep(self, keep: Callable[[str], bool]) -> None:
        """Kill and remove this judge's kind of groups whose name `keep` rejects."""
        names: set[str] = set()
        for parent in {self.memory_parent, self.pids_parent, self.cpu_parent} - {None}:
            assert parent is not None
            names.update(
                d.name
                for d in parent.glob("codebattle-*")
                if d.is_dir() and not d.name.startswith(("codebattle-probe-", "codebattle-judge"))
            )
        for name in names:
            if keep(name):
                continue

            def child(parent: Path | None, name: str = name) -> Path | None:
                return None if parent is None or not (parent / name).is_dir() else parent / name

            Cgroup(
                self.version,
                child(self.memory_parent),
                child(self.pids_parent),
                child(self.cpu_parent),
            ).remove()


def detect() -> CgroupFactory | None:
    """The cgroup tree this process can create groups in, or None."""
    try:
        own = _own_paths()
    except OSError:
        return None
    unified = own.get("")
    v2_root = CGROUP_ROOT if (CGROUP_ROOT / "cgroup.controllers").exists() else None
    if v2_root is not None and unified is not None:
        base = v2_root / unified.lstrip("/")
        controllers = (
            (base / "cgroup.controllers").read_text().split()
            if (base / "cgroup.controllers").exists()
            else []
        )
        if {"memory", "pids"} <= set(controllers) and _enable_v2_controllers(base):
            return CgroupFactory(2, base, base, base if "cpu" in controllers else None)
    memory = _v1_parent("memory", own)
    if memory is None:
        return None
    return CgroupFactory(1, memory, _v1_parent("pids", own), _v1_parent("cpuacct", own))


def _v1_parent(controller: str, own: dict[str, str]) -> Path | None:
    path = own.get(controller)
    if path is None:
        return None
    for mount in (CGROUP_ROOT / controller, CGROUP_ROOT / f"cpu,{controller}"):
        base = mount / path.lstrip("/")
        if (base / "cgroup.procs").exists() and _writable_dir(base):
            return base
    return None


def _enable_v2_controllers(base: Path) -> bool:
    """Make `base` able to hand memory and pids limits to children.

    cgroup v2 forbids processes in a group that delegates controllers, so the judge first
    moves itself into a leaf `judge` group when it is in `base` itself.
    """
    wanted = "+memory +pids" + (
        " +cpu" if "cpu" in (base / "cgroup.controllers").read_text() else ""
    )
    try:
        _write(base / "cgroup.subtree_control", wanted)
        return _writable_dir(base)
    except OSError:
        pass
    try:
        leaf = base / "codebattle-judge"
        leaf.mkdir(exist_ok=True)
        for pid in (base / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                _write(leaf / "cgroup.procs", pid)
        _write(base / "cgroup.subtree_control", wanted)
        return _writable_dir(base)
    except OSError:
        return False
