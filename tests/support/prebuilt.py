"""What the prebuilt-artifact tests share (tests/judge/test_prebuilt.py, _java.py): a sandbox
in a private root that the sandbox's user can read, a spy on the argv of its runs, compilers
with a given store, and the store that has none.

The fixtures are registered under the names the tests use (`root`, `sandbox`, `argvs`) and
imported into each module, where they take precedence over tests/judge/conftest.py's
session sandbox."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codebattle.judge.compiler import Compiler
from codebattle.judge.prebuilt import Prebuilts
from codebattle.judge.sandbox import Sandbox
from tests.support.hosts import require


@pytest.fixture(scope="module", name="root")
def root_fixture() -> Iterator[Path]:
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    # Not under pytest's private tmp folder: the sandbox's nobody must read the artifacts.
    path = Path(tempfile.mkdtemp(prefix="codebattle-prebuilt-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module", name="sandbox")
def sandbox_fixture(root: Path) -> Sandbox:
    return Sandbox(work_root=root / "boxes")


@pytest.fixture(name="argvs")
def argvs_fixture(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argv of every sandboxed run the test makes."""
    seen: list[list[str]] = []
    real = sandbox.run

    def spy(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append(list(argv))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(sandbox, "run", spy)
    return seen


def compiler(sandbox: Sandbox, store: Prebuilts) -> Compiler:
    """A compiler with an empty cache of its own, using `store`'s artifacts."""
    cache = Path(tempfile.mkdtemp(dir=sandbox.root))
    cache.chmod(0o755)
    return Compiler(sandbox, cache, prebuilt=store)


def off() -> Prebuilts:
    return Prebuilts(enabled=False)


def warnings(logs: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in logs if e["log_level"] == "warning"]
