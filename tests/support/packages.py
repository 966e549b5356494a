"""Builds small problem packages in a temporary folder for the engine tests."""

from __future__ import annotations

from pathlib import Path

import yaml


def make_package(
    root: Path,
    name: str = "adder",
    *,
    yaml_data: dict[str, object] | None = None,
    cases: dict[str, tuple[str, str]] | None = None,
    files: dict[str, str] | None = None,
) -> Path:
    """A package where each case is `data/<name>.in` / `.ans`; extra files by path."""
    pkg = root / name
    (pkg / "data" / "sample").mkdir(parents=True)
    (pkg / "data" / "secret").mkdir(parents=True)
    meta = {"name": name, "limits": {"time_limit": 1, "memory": 128}}
    meta.update(yaml_data or {})
    (pkg / "problem.yaml").write_text(yaml.safe_dump(meta))
    default_cases = {
        "sample/1": ("1 2\n", "3\n"),
        "secret/1": ("10 20\n", "30\n"),
        "secret/2": ("-5 5\n", "0\n"),
    }
    for case, (given, expected) in (cases or default_cases).items():
        base = pkg / "data" / case
        base.parent.mkdir(parents=True, exist_ok=True)
        base.with_suffix(".in").write_text(given)
        base.with_suffix(".ans").write_text(expected)
    for rel, text in (files or {}).items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg
