"""A judge that starts removes the boxes and cgroups of judges that died mid-run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from codebattle.judge import cgroups
from codebattle.judge.sandbox import NOBODY, Sandbox, mount_box_tmpfs
from tests.support.hosts import require


def _dead_pid() -> int:
    child = subprocess.Popen(["/bin/true"])
    child.wait()
    return child.pid


def test_stale_boxes_and_cgroups_are_swept(judge_root: Path) -> None:
    root = judge_root / "sweep"
    root.mkdir(mode=0o711)
    dead = _dead_pid()
    stale_dir = root / f"box-{dead}-aa"
    stale_dir.mkdir()
    (stale_dir / "left.txt").write_text("x")
    live = root / f"box-{os.getpid()}-bb"
    live.mkdir()
    mounted = root / f"box-{dead}-cc"
    mounted.mkdir()
    is_root = os.geteuid() == 0
    if is_root:
        assert mount_box_tmpfs(mounted, NOBODY)

    factory = cgroups.detect()
    require(factory is not None, "no writable cgroup tree on this host")
    assert factory is not None and factory.memory_parent is not None
    stale_group = factory.memory_parent / f"codebattle-{dead}-dd"
    stale_group.mkdir()
    live_group = factory.memory_parent / f"codebattle-{os.getpid()}-ee"
    live_group.mkdir()
    try:
        sandbox = Sandbox(work_root=root)
        sandbox.settle()
        assert not stale_dir.exists() and not mounted.exists() and not stale_group.exists()
        assert live.exists() and live_group.exists()
    finally:
        live_group.rmdir()


KILLED_JUDGE = """
import os, signal, sys
from pathlib import Path
from codebattle.judge.sandbox import Limits, Sandbox
sandbox = Sandbox(work_root=Path(sys.argv[1]))
limits = Limits(cpu_time=5, wall_time=60, memory=64 << 20)
box = sandbox.new_box()
print(box.path, flush=True)
waiting = sandbox.prepare(["/bin/sh", "-c", "echo ran > /box/ran; sleep 60"], box, limits)
running = sandbox.prepare(["/bin/sleep", "60"], sandbox.new_box(), limits)
running.start()
print("started", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _children_of_sandbox(entry: Path, root: Path) -> bool:
    """A program in a sandbox under `root`: its parent's command line names the root."""
    try:
        parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        return str(root).encode() in Path(f"/proc/{parent}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False


def _sandboxes_under(root: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(root).encode() in cmdline or _children_of_sandbox(entry, root):
                found.append(int(entry.name))
    return found


def test_a_killed_judge_leaves_no_sandbox_running(judge_root: Path) -> None:
    """SIGKILL gives the judge no chance to clean up: the next judge to start kills what is
    left of its sandboxes and removes their boxes (docs/sandbox.md)."""
    import sys
    import time

    root = judge_root / "killed"
    root.mkdir(mode=0o711)
    judge = subprocess.run(
        [sys.executable, "-c", KILLED_JUDGE, str(root)], capture_output=True, timeout=60
    )
    waiting_box, started = judge.stdout.decode().splitlines()
    assert started == "started", judge.stderr.decode()
    # The prepared sandbox ends by itself at its gate, and its program never runs.
    deadline = time.monotonic() + 5
    while _sandboxes_under(Path(waiting_box)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sandboxes_under(Path(waiting_box)) == []
    assert not (Path(waiting_box) / "ran").exists()
    # The running one dies with the judge, except when the judge dies before bubblewrap's
    # init has bound itself to its parent: the next judge's sweep ends it (docs/sandbox.md).
    Sandbox(work_root=root).settle()
    deadline = time.monotonic() + 5
    while _sandboxes_under(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sandboxes_under(root) == []
    assert not list(root.glob("box-*"))


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


KILLED_JUDGE_WITH_A_SESSION = """
import os, signal, sys, threading, time
from pathlib import Path
from codebattle.judge.sandbox import Limits, Sandbox
sandbox = Sandbox(work_root=Path(sys.argv[1]))
if not sandbox.reusable:
    print("not reusable", flush=True)
    sys.exit(0)
limits = Limits(cpu_time=5, wall_time=60, memory=64 << 20)
session = sandbox.session()
session.run(["/bin/true"], limits)
threading.Thread(target=session.run, args=(["/bin/sleep", sys.argv[2]], limits)).start()
time.sleep(0.5)
print("started", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _processes_naming(token: str) -> list[int]:
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and token in _command(int(entry.name)).split()
    ]


def test_a_killed_judge_leaves_no_reused_sandbox_running(judge_root: Path) -> None:
    """The zygote is the sandbox's pid 1 and dies with the judge (end-of-file on its socket,
    and bubblewrap's parent-death signal): the program it ran dies with it."""
    import sys
    import time

    root = judge_root / "killed-session"
    root.mkdir(mode=0o711)
    token = f"{60 + int.from_bytes(os.urandom(2), 'big') / 1e6:.6f}"  # a unique sleep time
    judge = subprocess.run(
        [sys.executable, "-c", KILLED_JUDGE_WITH_A_SESSION, str(root), token],
        capture_output=True,
        timeout=60,
    )
    said = judge.stdout.decode().strip()
    require(said != "not reusable", "no static launcher: sandboxes are not reused")
    assert said == "started", judge.stderr.decode()
    deadline = time.monotonic() + 5
    while (_processes_naming(token) or _sandboxes_under(root)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_naming(token) == []
    assert _sandboxes_under(root) == []
    Sandbox(work_root=root).settle()  # the next judge removes the box
    assert not list(root.glob("box-*"))
