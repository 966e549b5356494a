"""A sandbox that cannot start is a clear judge error (IE), with bubblewrap's own reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codebattle.judge.sandbox import Limits, Sandbox, SandboxError


def test_start_failure_reports_bubblewrap_reason(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    if os.geteuid() != 0:
        pytest.skip("only root drops to nobody, who cannot reach a private folder")
    sandbox = Sandbox(work_root=private / "boxes")
    sandbox.settle()  # the reaper's sweep of stale boxes holds descriptors while it runs
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):  # the reason must not depend on timing
        with sandbox.box() as box, pytest.raises(SandboxError) as caught:
            sandbox.run(["/usr/bin/true"], box, Limits(cpu_time=1, wall_time=2, memory=64 << 20))
        assert "Permission denied" in str(caught.value)
    sandbox.settle()
    assert len(os.listdir("/proc/self/fd")) == before
