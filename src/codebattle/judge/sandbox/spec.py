"""What a run is given (limits, binds) and what it gives back (RunResult, or SandboxError)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534
MiB = 1 << 20


class SandboxError(Exception):
    """The sandbox itself failed (a judge fault: reported as IE, never blamed on the player)."""


# An rlimit without a limit (RLIM_INFINITY, as the launcher and prlimit read it).
UNLIMITED = (1 << 64) - 1


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
    stack: int | None = None  # default: the memory limit; UNLIMITED: no stack rlimit
    # RLIMIT_AS, set with or without a cgroup (Language.address_space); None: only where
    # there is no cgroup, at the memory limit.
    address_space: int | None = None


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
