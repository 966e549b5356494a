"""Cleanup off the critical path: used boxes and cgroups go on a background thread, and what
judges that died left behind (sandboxes, boxes, cgroups) is swept when a sandbox starts."""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from codebattle.judge import cgroups
from codebattle.judge.sandbox.box import Box


class Reaper:
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


REAPER = Reaper()
atexit.register(REAPER.settle)


def owner_alive(name: str) -> bool:
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


def kill_processes_using(paths: Sequence[str]) -> None:
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


def sweep_stale(root: Path, factory: cgroups.CgroupFactory | None) -> None:
    """Kill the sandboxes and remove the boxes and cgroups left by judges that died
    (killed mid-run)."""
    stale = [p for p in root.glob("box-*") if not owner_alive(p.name.removeprefix("box-"))]
    kill_processes_using([str(p) for p in stale])
    for path in stale:
        Box.existing(path).remove()
    if factory:
        factory.sweep(lambda name: owner_alive(name.removeprefix("codebattle-")))
