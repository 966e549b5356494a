"""Shared fixtures: one judge for the whole session, with its own box root and cache."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codebattle.judge.compiler import CompileLimits, Compiler
from codebattle.judge.engine import Judge
from codebattle.judge.sandbox import Sandbox
from tests.servers import Server, Site


def require(condition: bool, reason: str) -> None:
    """Skip when the host lacks something, except in CI, where a skip is a failure."""
    if condition:
        return
    if os.environ.get("CODEBATTLE_REQUIRE_ALL") == "1":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def judge_root() -> Iterator[Path]:
    # Not under pytest's private tmp folder: the sandbox's nobody must traverse it.
    root = Path(tempfile.mkdtemp(prefix="codebattle-test-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def judge(judge_root: Path) -> Judge:
    sandbox = Sandbox(work_root=judge_root / "boxes")
    compiler = Compiler(sandbox, judge_root / "cache", CompileLimits(cpu_time=20, wall_time=40))
    return Judge(sandbox, compiler)


@pytest.fixture(scope="module")
def server(site: Site) -> Server:
    """The module's `site` (each module that uses real servers defines its own), served."""
    return site.serve()
