"""A judge that starts removes the boxes and cgroups of judges that died mid-run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from codebattle.judge import cgroups
from codebattle.judge.sandbox import NOBODY, Sandbox, _mount_box_tmpfs
from tests.conftest import require


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
        assert _mount_box_tmpfs(mounted, NOBODY)

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
