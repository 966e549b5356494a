"""The AI opponent's reference solutions are the code the judge runs: constants in."""

from __future__ import annotations

from pathlib import Path

from codebattle.judge.loader import load_package
from codebattle.problems.importer import reference_solutions, version_fields
from tests.support.packages import make_package


def test_reference_solutions_have_the_packages_constants_substituted(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={
            "problem_format_version": "2025-09",
            "uuid": "x",
            "constants": {"bound": 1000},
        },
        files={
            "submissions/accepted/a.py": "LIMIT = {{bound}}  # {{unknown}}\nprint(1)\n",
            "submissions/accepted/b.cpp": "int main() { return {{bound}} > 0 ? 0 : 1; }\n",
        },
    )
    package = load_package(pkg)
    solutions = reference_solutions(package)
    assert solutions["python"] == "LIMIT = 1000  # {{unknown}}\nprint(1)\n"
    assert solutions["cpp"] == "int main() { return 1000 > 0 ? 0 : 1; }\n"
    assert version_fields(package, 1.0)["solutions"] == solutions
