"""Runs one untrusted program under bubblewrap, cgroups, rlimits and seccomp.

One call of `Sandbox.run` is one process tree in fresh namespaces (user, pid, net, ipc, uts,
mount, cgroup), as the host's `nobody` when the judge is root, with:
- a cleared environment and read-only binds of just what the runtime needs;
- a fresh writable box directory (the working directory) and a size-capped tmpfs /tmp;
- a seccomp deny-list (see seccomp_filter.py) and nested user namespaces disabled;
- a per-run cgroup for peak memory, process count and CPU time, or rlimits when none;
- CPU, file size, open files, core and stack rlimits, and a wall-clock watcher;
- output through pipes with a size cap.

The modules, one concern each: `spec` (limits, binds, results), `box` (boxes and reading
back from them safely), `fds` (the descriptor ledger), `launcher` (the static launcher and
its fallback), `command` (the bubblewrap command line), `spawn` (starting the launch chain),
`supervise` (the wait-and-measure loop), `prepared` (a sandbox set up ahead of its run),
`session` (one sandbox reused for the tests of one submission), `reaper` (cleanup in the
background and of dead judges), `core` (the Sandbox).
"""

from codebattle.judge.sandbox.box import (
    BOX_INODES,
    BOX_SIZE,
    Box,
    copy_box_tree,
    mount_box_tmpfs,
    read_box_file,
)
from codebattle.judge.sandbox.core import Sandbox
from codebattle.judge.sandbox.launcher import LAUNCHER_SOURCE, build_launcher
from codebattle.judge.sandbox.prepared import PreparedRun
from codebattle.judge.sandbox.reaper import REAPER
from codebattle.judge.sandbox.session import Session
from codebattle.judge.sandbox.spec import (
    NOBODY,
    UNLIMITED,
    Bind,
    Limits,
    MiB,
    RunResult,
    SandboxError,
)

__all__ = [
    "BOX_INODES",
    "BOX_SIZE",
    "LAUNCHER_SOURCE",
    "NOBODY",
    "REAPER",
    "Bind",
    "Box",
    "Limits",
    "UNLIMITED",
    "MiB",
    "PreparedRun",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "Session",
    "build_launcher",
    "copy_box_tree",
    "mount_box_tmpfs",
    "read_box_file",
]
