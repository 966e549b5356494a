"""The layer contract (pyproject.toml `[tool.importlinter]`, run by `make lint`): the source
keeps it, and the check is not toothless: an upward import in a copy of the source breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import codebattle

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(codebattle.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
UPWARD = "codebattle.judge.verdicts -> codebattle.web"


def lint_imports(config: Path, python_path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(python_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def python_only(directory: str, names: list[str]) -> set[str]:
    """shutil.copytree's ignore: keep packages and modules, skip templates, assets, caches."""
    return {
        name
        for name in names
        if name == "__pycache__"
        or (not name.endswith(".py") and not os.path.isdir(os.path.join(directory, name)))
    }


def test_the_source_keeps_the_layer_contract() -> None:
    result = lint_imports(ROOT / "pyproject.toml", ROOT / "src", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Layers point one way KEPT" in result.stdout
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "codebattle", ignore=python_only)
    verdicts = src / "codebattle" / "judge" / "verdicts.py"
    # The judge is a library: importing the web layer from it points up.
    verdicts.write_text(verdicts.read_text("utf-8") + "\nimport codebattle.web  # noqa\n", "utf-8")
    config = tmp_path / "contract.toml"
    shutil.copyfile(ROOT / "pyproject.toml", config)

    result = lint_imports(config, src, tmp_path)

    assert result.returncode != 0, result.stdout + result.stderr
    assert "Layers point one way BROKEN" in result.stdout
    assert UPWARD in result.stdout
