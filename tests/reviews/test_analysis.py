"""The offline review's parts: lint parsed from the real tools in the sandbox (ruff, g++
-Wextra, javac -Xlint), the complexity comparison (a quadratic program against the
reference on any-pair's largest tests, both run here), growth, and notes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.judge.sandbox import Sandbox
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.reviews import offline
from codebattle.reviews.lint import Finding, Lint, lint, parse_gcc, parse_javac
from codebattle.reviews.service import Toolkit, analyse
from codebattle.storage import LocalBlobStore
from tests.support.hosts import PROBLEMS
from tests.support.site import import_problems, settings_for


def test_lint_in_the_sandbox() -> None:
    sandbox = Sandbox()
    python = lint(sandbox, "python", "import os\n\n\ndef f():\n    y = 2\n    return 1\n")
    assert python.available and {f.code for f in python.findings} == {"F401", "F841"}
    cpp = lint(
        sandbox, "cpp", "int f(int a, int b) { return a; }\nint main() { return f(1, 2); }\n"
    )
    assert [(f.line, f.code) for f in cpp.findings] == [(1, "-Wunused-parameter")]
    java = lint(
        sandbox,
        "java",
        "import java.util.*;\npublic class Main {\n  public static void main(String[] a) {\n"
        "    List l = new ArrayList();\n    l.add(1);\n  }\n}\n",
    )
    assert "-Xlint:rawtypes" in {f.code for f in java.findings}
    assert "-Xlint:unchecked" in {f.code for f in java.findings}


def test_compiler_output_is_parsed_for_the_main_file_only() -> None:
    gcc = (
        "main.cpp: In function 'int main()':\n"
        "main.cpp:4:9: warning: unused variable 'x' [-Wunused-variable]\n"
        "/usr/include/x.h:1:1: warning: elsewhere [-Wfoo]\n"
        "main.cpp:7:3: error: 'y' was not declared in this scope\n"
    )
    assert parse_gcc(gcc, "main.cpp") == [
        Finding(4, "-Wunused-variable", "unused variable 'x'"),
        Finding(7, "error", "'y' was not declared in this scope"),
    ]
    javac = "Main.java:3: warning: [rawtypes] found raw type: List\n        List l;\n"
    assert parse_javac(javac, "Main.java") == [
        Finding(3, "-Xlint:rawtypes", "found raw type: List")
    ]


def test_a_quadratic_program_is_compared_with_the_reference(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings: Settings = settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""))
    import_problems(settings, "any-pair")
    blobs = LocalBlobStore(settings.DATA_DIR / "blobs")

    async def version() -> ProblemVersion:
        db = Database(settings.database_url)
        try:
            async with db.reading() as session:
                problem = await session.scalar(select(Problem).where(Problem.slug == "any-pair"))
                assert problem is not None
                found = await session.get(ProblemVersion, problem.current_version_id)
                assert found is not None
                return found
        finally:
            await db.dispose()

    found = asyncio.run(version())
    quadratic = PROBLEMS / "any-pair" / "submissions" / "time_limit_exceeded" / "all_pairs.cpp"
    toolkit = Toolkit(blobs)
    result, measured, _growth = analyse(
        toolkit, blobs, version_id=found.id, package_key=found.package_key,
        solutions=found.solutions, language="cpp", code=quadratic.read_text(), compiled=True,
        time_limit=found.time_limit, own_times={},
    )  # fmt: skip
    assert result.available
    assert measured is not None and len(measured.names) == 3
    # Named as players see them (the position), not by the package's file name.
    assert measured.names[0] == "secret/19"  # 17-max-n-no-pair, after the two samples
    assert not any("max-n" in name for name in measured.names)
    assert measured.reference_language == "cpp"
    assert all(t is not None and t < found.time_limit for t in measured.reference)
    assert measured.player[0] is None  # too slow on the largest test
    notes, approach, _figures = offline.complexity(measured, None, found.time_limit)
    assert notes[0]["key"] == "review_reference_only"
    assert approach == [{"key": "review_approach_faster", "params": {}}]
    # The reference's times are kept: a second analysis reads them back.
    cached = blobs.get(f"reviews/reference/{found.id}/cpp.json")
    assert "17-max-n-no-pair" in cached.decode()  # operators' storage, never shown


def test_complexity_notes_from_figures() -> None:
    slower = offline.Measured(["a", "b"], [0.6, 0.5], [0.05, 0.04], "python")
    notes, approach, figures = offline.complexity(slower, 2.0, 1.0)
    assert [n["key"] for n in notes] == ["review_growth", "review_slower"]
    assert approach[0]["key"] == "review_approach_faster" and figures["ratio"] == 12.22
    same = offline.Measured(["a"], [0.05], [0.04], "python")
    assert offline.complexity(same, None, 1.0)[0][0]["key"] == "review_similar"
    assert offline.complexity(None, None, 1.0)[0] == [offline.note("review_no_reference")]


def test_growth_of_times_with_input_size() -> None:
    quadratic = [(n, (n / 1000) ** 2 * 0.1) for n in (1000, 2000, 4000, 8000)]
    assert offline.growth(quadratic) == 2.0
    assert offline.growth([(1000, 0.5), (1500, 0.6)]) is None  # sizes too close
    assert offline.growth([(1000, 0.001), (9000, 0.001)]) is None  # too fast to measure


def test_the_body_keeps_shown_tests_and_sorts_findings() -> None:
    found = Lint("ruff", True, [Finding(3, "F821", "undefined name"), Finding(5, "E711", "x")])
    body = offline.build(
        verdict="AC", passed=2, total=2,
        tests=[{"index": 0, "name": "sample/1", "verdict": "AC", "sample": True},
               {"index": 1, "name": "secret/1", "verdict": "AC", "sample": False}],
        lint=found, measured=None, own_growth=None, time_limit=1.0,
    )  # fmt: skip
    sections = body["sections"]
    assert [n["params"]["code"] for n in sections["correctness"][1:]] == ["F821"]
    assert [n["params"]["code"] for n in sections["style"]] == ["E711"]
    assert body["lint"]["findings"][0] == {"line": 3, "code": "F821", "message": "undefined name"}
