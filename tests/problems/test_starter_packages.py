"""Every starter problem under problems/ verifies: each submission gets its folder's verdict."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.verify import Verifier, format_table

PROBLEMS = Path(__file__).resolve().parents[2] / "problems"
PACKAGES = sorted(p for p in PROBLEMS.iterdir() if (p / "problem.yaml").exists())
REQUIRED_FOLDERS = {"accepted", "wrong_answer", "time_limit_exceeded", "run_time_error"}
DIFFICULTIES = {"easy", "medium", "hard"}
KEYWORD = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def test_the_starter_set_covers_every_kind_of_problem() -> None:
    packages = [load_package(p) for p in PACKAGES]
    assert len(packages) >= 20
    assert any(p.interactive for p in packages)
    assert any(p.scoring for p in packages)
    assert any(p.validation == "custom" and not p.interactive for p in packages)
    assert any(any("float" in f for f in p.validator_flags) for p in packages)
    for package in packages:
        assert {"ko", "en"} <= set(package.statements), package.short_name
        folders = {s.expected for s in package.submissions}
        assert REQUIRED_FOLDERS <= folders, package.short_name
        accepted = {s.language for s in package.submissions if s.expected == "accepted"}
        assert accepted == {"python", "cpp", "java"}, package.short_name
        assert package.limits.time_limit is not None, package.short_name
    for folder in REQUIRED_FOLDERS - {"accepted"}:
        languages = {s.language for p in packages for s in p.submissions if s.expected == folder}
        assert languages == {"python", "cpp", "java"}, folder


def test_every_starter_package_has_a_difficulty_and_keywords() -> None:
    """problem.yaml's own keys (docs/problem-format.md): difficulty and keywords."""
    spread: Counter[str] = Counter()
    for path in PACKAGES:
        metadata = load_package(path).metadata
        assert metadata.get("difficulty") in DIFFICULTIES, path.name
        spread[metadata["difficulty"]] += 1
        keywords = metadata.get("keywords")
        assert isinstance(keywords, list) and keywords, path.name
        assert all(isinstance(k, str) and KEYWORD.fullmatch(k) for k in keywords), path.name
        assert len(set(keywords)) == len(keywords), path.name
    assert all(spread[d] >= 3 for d in DIFFICULTIES), spread


@pytest.mark.parametrize("path", PACKAGES, ids=[p.name for p in PACKAGES])
def test_package_verifies(judge: Judge, path: Path) -> None:
    report = Verifier(judge, jobs=2).verify(path)
    assert report.ok, format_table(report)
