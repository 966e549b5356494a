"""cgroup detection on fake trees (v2 unified, v1 per controller, none) and on this host."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.judge import cgroups
from tests.support.hosts import require


def _fake(monkeypatch: pytest.MonkeyPatch, root: Path, own: dict[str, str]) -> None:
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", root)
    monkeypatch.setattr(cgroups, "_own_paths", lambda: own)


def test_detects_cgroup_v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "judge.slice"
    base.mkdir()
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    (base / "cgroup.controllers").write_text("cpu memory pids\n")
    (base / "cgroup.subtree_control").write_text("")
    _fake(monkeypatch, tmp_path, {"": "/judge.slice"})
    factory = cgroups.detect()
    assert factory is not None and factory.version == 2
    assert factory.memory_parent == base and factory.cpu_parent == base
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"


def test_v2_without_memory_controller_falls_back_to_v1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu io\n")
    for controller in ("memory", "pids"):
        (tmp_path / controller / "job").mkdir(parents=True)
        (tmp_path / controller / "job" / "cgroup.procs").write_text("")
    _fake(monkeypatch, tmp_path, {"": "/", "memory": "/job", "pids": "/job"})
    factory = cgroups.detect()
    assert factory is not None and factory.version == 1
    assert factory.memory_parent == tmp_path / "memory" / "job"
    assert factory.pids_parent == tmp_path / "pids" / "job"
    assert factory.cpu_parent is None  # no cpuacct: CPU time falls back to rusage


def test_no_writable_tree_means_rlimit_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake(monkeypatch, tmp_path, {"": "/"})
    assert cgroups.detect() is None


def test_this_host_creates_and_removes_groups() -> None:
    factory = cgroups.detect()
    require(factory is not None, "no writable cgroup tree on this host")
    assert factory is not None
    group = factory.create(64 << 20, 8)
    dirs = group.dirs
    assert all(d.is_dir() for d in dirs)
    assert group.processes() == [] and not group.oom_killed()
    group.remove()
    assert not any(d.exists() for d in dirs)
