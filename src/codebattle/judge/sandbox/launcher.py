"""What runs before bubblewrap: the static launcher (launcher.c, built once) or, without a C
compiler, setpriv + prlimit. Either sets the rlimits and drops to nobody, since the judge may
lack CAP_SYS_RESOURCE to set another user's limits afterwards."""

from __future__ import annotations

import hashlib
import resource
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

from codebattle.judge.sandbox.spec import Limits

LAUNCHER_SOURCE = Path(__file__).parent.parent / "launcher.c"
FALLBACK_NPROC = 1024  # RLIMIT_NPROC when there is no pids cgroup
PRLIMIT_NAMES = {
    resource.RLIMIT_CPU: "cpu",
    resource.RLIMIT_FSIZE: "fsize",
    resource.RLIMIT_NOFILE: "nofile",
    resource.RLIMIT_CORE: "core",
    resource.RLIMIT_STACK: "stack",
    resource.RLIMIT_MEMLOCK: "memlock",
    resource.RLIMIT_AS: "as",
    resource.RLIMIT_NPROC: "nproc",
    resource.RLIMIT_MSGQUEUE: "msgqueue",
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


def rlimits(limits: Limits, has_cgroup: bool) -> dict[int, int]:
    """The rlimits of one run: backstops where a cgroup decides, the limit where none."""
    cpu = int(limits.cpu_time) + 1  # a backstop: the cgroup's CPU time decides TLE
    values = {
        resource.RLIMIT_CPU: cpu,
        resource.RLIMIT_FSIZE: limits.file_size,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_STACK: limits.stack or limits.memory,
        resource.RLIMIT_MEMLOCK: 0,
        # No POSIX message queues: they outlive their processes, and nothing would remove
        # them between the runs of a reused sandbox (System V IPC objects are removed).
        resource.RLIMIT_MSGQUEUE: 0,
    }
    if limits.address_space is not None:
        values[resource.RLIMIT_AS] = limits.address_space
    if not has_cgroup:
        values.setdefault(resource.RLIMIT_AS, limits.memory)
        # RLIMIT_NPROC counts every process of the user on the host (all sandboxes and
        # exiting ones), so it is only a coarse fork-bomb brake here.
        values[resource.RLIMIT_NPROC] = max(limits.processes, FALLBACK_NPROC)
    return values


class LaunchChain:
    """Builds the command prefix that starts bubblewrap with the rlimits set and as nobody."""

    def __init__(self, launcher: Path | None, drop_to: int | None) -> None:
        self.launcher = launcher
        self.drop_to = drop_to
        self.prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
        self.setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"

    def prefix(self, values: dict[int, int]) -> list[str]:
        if self.launcher is not None:
            uid = str(self.drop_to if self.drop_to is not None else -1)
            return [str(self.launcher), uid, *(f"{r}={v}" for r, v in values.items()), "--"]
        # Fallback: util-linux setpriv drops to nobody and, as the launcher, has the sandbox
        # killed when the judge dies; prlimit lowers its own limits.
        prefix = [self.setpriv, "--pdeathsig=KILL"]
        if self.drop_to is not None:
            uid = str(self.drop_to)
            prefix += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        return [
            *prefix,
            self.prlimit,
            *(f"--{PRLIMIT_NAMES[r]}={v}:{v}" for r, v in values.items()),
            "--",
        ]
