"""Both launch chains (static launcher, setpriv + prlimit) apply rlimits and drop to nobody."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codebattle.judge.sandbox import NOBODY, Limits, Sandbox, build_launcher
from tests.support.hosts import require

PROBE = (
    "import os, resource\n"
    "print(os.getuid(), os.getgid(), os.getgroups(),"
    " resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_NOFILE),"
    " resource.getrlimit(resource.RLIMIT_CORE))\n"
)


@pytest.mark.parametrize("chain", ["launcher", "setpriv+prlimit"])
def test_chain_applies_limits_and_drops_privileges(judge_root: Path, chain: str) -> None:
    sandbox = Sandbox(work_root=judge_root / "launch")
    if chain == "launcher":
        require(sandbox.launcher is not None, "the static launcher could not be built")
    else:
        sandbox.launcher = None
    limits = Limits(cpu_time=2, wall_time=5, memory=128 << 20, open_files=77)
    with sandbox.box() as box:
        run = sandbox.run(["/usr/bin/python3", "-I", "-S", "-c", PROBE], box, limits)
    assert run.exit_code == 0, run.stderr
    expected_id = NOBODY if os.geteuid() == 0 else os.geteuid()
    assert run.stdout.decode().split("[")[0].split() == [str(expected_id)] * 2
    assert "(3, 3) (77, 77) (0, 0)" in run.stdout.decode()
    assert sandbox.enforcement["rlimits"] == ("launcher" if chain == "launcher" else "prlimit")


def test_launcher_refuses_bad_arguments(judge_root: Path) -> None:
    launcher = build_launcher(judge_root)
    require(launcher is not None, "the static launcher could not be built")
    for args in (["x", "--", "/bin/true"], ["-1", "0=abc", "--", "/bin/true"], ["-1", "0=1"]):
        done = subprocess.run([str(launcher), *args], capture_output=True, env={})
        assert done.returncode == 127, args
        assert done.stderr, args  # it says what is wrong
