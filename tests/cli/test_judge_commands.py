"""The `codebattle judge` commands, through the real command-line app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from codebattle.cli import app
from tests.support.packages import make_package

runner = CliRunner()
PY_AC = "a, b = map(int, input().split())\nprint(a + b)\n"


def test_run_json_reports_every_test(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    source = tmp_path / "sol.py"
    source.write_text(PY_AC)
    result = runner.invoke(app, ["judge", "run", str(pkg), str(source), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["verdict"] == "AC"
    assert [t["name"] for t in data["tests"]] == ["sample/1", "secret/1", "secret/2"]
    assert {"name", "verdict", "time", "wall_time", "memory"} <= set(data["tests"][0])
    assert data["compile_output"] == ""


def test_run_text_streams_lines_and_honours_all(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    source = tmp_path / "wrong.txt"
    source.write_text("print(3)\n")
    result = runner.invoke(
        app, ["judge", "run", str(pkg), str(source), "--lang", "python", "--all"]
    )
    assert result.exit_code == 0, result.output
    assert "secret/2" in result.output  # --all ran past the first failure
    assert "verdict: WA (1/3 tests passed)" in result.output


def test_run_rejects_unknown_language_clearly(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    source = tmp_path / "sol.rb"
    source.write_text("puts 1\n")
    result = runner.invoke(app, ["judge", "run", str(pkg), str(source)])
    assert result.exit_code == 2
    assert "cannot tell the language of sol.rb" in result.output
    assert "Traceback" not in result.output


def test_run_reports_a_malformed_package(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    (pkg / "problem.yaml").write_text("limits:\n  memory: lots\n")
    source = tmp_path / "sol.py"
    source.write_text(PY_AC)
    result = runner.invoke(app, ["judge", "run", str(pkg), str(source)])
    assert result.exit_code == 2
    assert "problem.yaml" in result.output and "limits.memory" in result.output


def test_verify_flags_a_mismatch(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        files={
            "submissions/accepted/good.py": PY_AC,
            "submissions/accepted/bad.py": "print(3)\n",
            "submissions/wrong_answer/wa.py": "print(0)\n",
        },
    )
    result = runner.invoke(app, ["judge", "verify", str(pkg)])
    assert result.exit_code == 1, result.output
    lines = {
        line.split()[0]: line
        for line in result.output.splitlines()
        if "/" in line and line.startswith("  ") and not line.startswith("  =>")
    }
    assert lines["accepted/good.py"].rstrip().endswith("ok")
    assert "MISMATCH" in lines["accepted/bad.py"]
    assert "ok" in lines["wrong_answer/wa.py"]

    as_json = runner.invoke(app, ["judge", "verify", str(pkg), "--json"])
    report = json.loads(as_json.output)[0]
    assert report["ok"] is False
    got = {s["submission"]: s["got"] for s in report["submissions"]}
    assert got == {"accepted/bad.py": "WA", "accepted/good.py": "AC", "wrong_answer/wa.py": "WA"}


def test_verify_derives_a_time_limit(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, files={"submissions/accepted/good.py": PY_AC})
    (pkg / "problem.yaml").write_text("name: adder\n")
    result = runner.invoke(app, ["judge", "verify", str(pkg), "--json"])
    report = json.loads(result.output)[0]
    assert result.exit_code == 0, result.output
    assert report["time_limit"] == 1  # ceil(tiny CPU time x 5), at least one second


def test_verify_reports_every_submission_of_a_2025_09_package(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={"problem_format_version": "2025-09"},
        files={
            "submissions/accepted/good.py": PY_AC,
            "submissions/accepted/crash.py": "import sys\nsys.exit(4)\n",
            "submissions/wrong_answer/wa.py": "print(0)\n",
            "submissions/submissions.yaml": "wrong_answer/wa.py:\n  sample:\n    permitted: [AC]\n",
        },
    )
    result = runner.invoke(app, ["judge", "verify", str(pkg)])
    assert result.exit_code == 1, result.output
    assert "wrong_answer/wa.py sample: sample/1 gets WA, not in [AC]" in result.output

    as_json = runner.invoke(app, ["judge", "verify", str(pkg), "--json"])
    report = json.loads(as_json.output)[0]
    rows = {row["submission"]: row for row in report["submissions"]}
    assert rows["accepted/good.py"]["ok"] and rows["accepted/good.py"]["time_limit"] == 1
    crash = rows["accepted/crash.py"]
    assert (crash["got"], crash["detail"]) == ("RE", "sample/1 RE exit code 4")
    assert rows["wrong_answer/wa.py"]["failures"] == [
        "wrong_answer/wa.py sample: sample/1 gets WA, not in [AC]"
    ]


def test_selftest_passes_on_this_host() -> None:
    result = runner.invoke(app, ["judge", "selftest"])
    assert result.exit_code == 0, result.output
    assert "[ok  ] sandbox" in result.output and "[ok  ] seccomp" in result.output


def test_run_derives_a_missing_time_limit(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, files={"submissions/accepted/good.py": PY_AC})
    (pkg / "problem.yaml").write_text("name: adder\n")
    source = tmp_path / "sol.py"
    source.write_text(PY_AC)
    result = runner.invoke(app, ["judge", "run", str(pkg), str(source), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    assert data["verdict"] == "AC" and data["time_limit"] == 1
