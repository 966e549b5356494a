"""The layer contract (pyproject.toml `[tool.importlinter]`, run by `make lint`): the source
keeps it, and the check is not toothless: an upward import in a copy of the source breaks it."""

from __future__ import annotations

import ast
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


# Outside services' client libraries: only codebattle/integrations/ imports them (the rest of
# the app sees their errors as errors.ServiceError, their spans as tracing.Span).
OUTSIDE_CLIENTS = frozenset({"opentelemetry", "sentry_sdk", "boto3", "botocore", "openai"})


def outside_imports(module: Path) -> set[str]:
    """The outside clients' top-level packages that `module` imports (anywhere in it)."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".", 1)[0] for name in names} & OUTSIDE_CLIENTS
    return found


def test_only_integrations_import_outside_clients() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(found)
        for path in PACKAGE.rglob("*.py")
        if "integrations" not in path.relative_to(PACKAGE).parts
        and (found := outside_imports(path))
    }
    assert offenders == {}


def test_an_outside_client_imported_elsewhere_is_found(tmp_path: Path) -> None:
    module = tmp_path / "logs.py"
    module.write_text("import structlog\nfrom opentelemetry import trace\n", "utf-8")
    assert outside_imports(module) == {"opentelemetry"}
