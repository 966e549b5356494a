"""`judge verify` on small packages, both format versions, real sandbox and programs."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.judge.engine import Judge
from codebattle.judge.verify import PackageReport, SubmissionCheck, Verifier, format_table
from tests.support.packages import make_package

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"
CRASH = "import sys\nsys.stderr.write('boom: bad input\\n')\nsys.exit(3)\n"
WRONG = "print(42)\n"
FOREVER = "while True:\n    pass\n"
# Busy for `s` seconds of CPU time (not wall time), then adds.
BUSY = "import time\nwhile time.process_time() < {s}:\n    pass\n" + ADD
MODERN = {"problem_format_version": "2025-09"}


def verify(judge: Judge, pkg: Path) -> tuple[PackageReport, dict[str, SubmissionCheck]]:
    report = Verifier(judge, jobs=2).verify(pkg)
    return report, {c.submission: c for c in report.checks}


def no_time_limit(pkg: Path, **limits: object) -> None:
    import yaml

    meta = yaml.safe_load((pkg / "problem.yaml").read_text())
    meta["limits"] = {"memory": 128, **limits}
    (pkg / "problem.yaml").write_text(yaml.safe_dump(meta))


# -- legacy -----------------------------------------------------------------------------


def test_a_crashing_accepted_submission_does_not_stop_the_others(
    judge: Judge, tmp_path: Path
) -> None:
    pkg = make_package(
        tmp_path,
        files={
            "submissions/accepted/good.py": ADD,
            "submissions/accepted/crash.py": CRASH,
            "submissions/wrong_answer/wa.py": WRONG,
        },
    )
    no_time_limit(pkg)
    report, checks = verify(judge, pkg)
    assert report.time_limit == 1  # from good.py alone
    assert checks["accepted/good.py"].ok and checks["wrong_answer/wa.py"].ok
    crash = checks["accepted/crash.py"]
    assert not crash.ok and crash.got == "RE"
    assert crash.detail == "sample/1 RE exit code 3: boom: bad input", crash.detail
    assert not report.ok and report.errors == []
    table = format_table(report)
    assert "accepted/crash.py" in table and "MISMATCH" in table


def test_when_no_accepted_submission_passes_each_says_why(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        files={
            "submissions/accepted/crash.py": CRASH,
            "submissions/accepted/broken.cpp": "int main( {\n",
            "submissions/wrong_answer/wa.py": WRONG,
        },
    )
    no_time_limit(pkg)
    report, checks = verify(judge, pkg)
    assert report.time_limit is None
    assert len(report.errors) == 1 and "accepted/crash.py" in report.errors[0]
    assert checks["accepted/crash.py"].detail.startswith("sample/1 RE exit code 3")
    broken = checks["accepted/broken.cpp"]
    assert broken.got == "CE" and broken.detail.startswith("compile error: ")
    assert checks["wrong_answer/wa.py"].detail == "not judged: no time limit"
    assert report.to_json()["submissions"][0]["got"] in {"CE", "RE"}


def test_legacy_partially_accepted_and_rejected_folders(judge: Judge, tmp_path: Path) -> None:
    half = "a, b = map(int, input().split())\nprint(a + b if a > 0 else 7)\n"
    pkg = make_package(
        tmp_path,
        files={
            "submissions/accepted/good.py": ADD,
            "submissions/partially_accepted/half.py": half,
            "submissions/partially_accepted/full.py": ADD,
            "submissions/rejected/wa.py": WRONG,
            "submissions/rejected/good.py": ADD,
            "data/secret/testdata.yaml": "on_reject: continue\n",
        },
    )
    (pkg / "problem.yaml").write_text(
        "name: adder\ntype: scoring\nlimits:\n  time_limit: 1\n  memory: 128\n"
    )
    report, checks = verify(judge, pkg)
    assert checks["accepted/good.py"].ok and checks["accepted/good.py"].score == 2
    assert checks["partially_accepted/half.py"].ok, checks["partially_accepted/half.py"]
    assert checks["partially_accepted/half.py"].score == 1
    assert not checks["partially_accepted/full.py"].ok  # the full score is not partial
    assert checks["rejected/wa.py"].ok and not checks["rejected/good.py"].ok


# -- 2025-09 ----------------------------------------------------------------------------


def test_time_limit_inference_uses_time_resolution(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data=MODERN,
        files={
            "submissions/accepted/busy.py": BUSY.format(s=0.3),
            "submissions/accepted/fast.py": ADD,
            "submissions/accepted/crash.py": CRASH,
        },
    )
    no_time_limit(pkg, time_resolution=0.4, time_multipliers={"ac_to_time_limit": 2.0})
    report, checks = verify(judge, pkg)
    slowest = max(c.max_time for c in report.checks if c.ok)
    assert slowest >= 0.3
    # The smallest multiple of 0.4 that is at least slowest x 2.
    steps = report.time_limit / 0.4 if report.time_limit else 0
    assert abs(steps - round(steps)) < 1e-6, report.time_limit
    assert report.time_limit is not None
    assert slowest * 2 <= report.time_limit < slowest * 2 + 0.4 + 1e-9
    assert not checks["accepted/crash.py"].ok and checks["accepted/crash.py"].got == "RE"


def test_an_impossible_time_limit_is_an_error(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data=MODERN,
        files={
            "submissions/accepted/good.py": ADD,
            # Never too slow, whatever the limit: no limit satisfies both bounds.
            "submissions/time_limit_exceeded/quick.py": ADD,
        },
    )
    no_time_limit(pkg)
    report, checks = verify(judge, pkg)
    assert any(e.startswith("no time limit satisfies both bounds") for e in report.errors)
    assert checks["time_limit_exceeded/quick.py"].failures == [
        "folder time_limit_exceeded: no case gets one of [TLE]"
    ]


def test_a_fixed_time_limit_is_checked_against_both_bounds(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data=MODERN,
        files={
            "submissions/accepted/busy.py": BUSY.format(s=0.6),
            # Too slow on the secret case only (one slow run instead of two).
            "submissions/time_limit_exceeded/forever.py": (
                "if input() == '1 1':\n    while True:\n        pass\nprint(3)\n"
            ),
        },
        cases={"sample/1": ("1 2\n", "3\n"), "secret/1": ("1 1\n", "2\n")},
    )
    no_time_limit(pkg, time_limit=1.1, time_resolution=1.0)
    report, checks = verify(judge, pkg)
    table = format_table(report)
    assert list(checks) == ["accepted/busy.py", "time_limit_exceeded/forever.py"], table
    assert checks["accepted/busy.py"].ok and checks["time_limit_exceeded/forever.py"].ok, table
    # 0.6 s x 2.0 > 1.1 s: the format makes it an error.
    assert any("below the slowest" in e for e in report.errors), table
    assert any("not a multiple of time_resolution" in w for w in report.warnings), table


def test_submissions_yaml_globs_groups_scores_and_messages(judge: Judge, tmp_path: Path) -> None:
    # Solves the easy cases, answers 7 on the hard one (a < 0).
    easy_only = "a, b = map(int, input().split())\nprint(a + b if a > 0 else 7)\n"
    pkg = make_package(
        tmp_path,
        yaml_data={**MODERN, "type": "scoring"},
        cases={
            "sample/1": ("1 2\n", "3\n"),
            "secret/01-easy": ("10 20\n", "30\n"),
            "secret/02-hard": ("-5 5\n", "0\n"),
        },
        files={
            "submissions/accepted/good.py": ADD,
            "submissions/mixed/easy_only.py": easy_only,
            "submissions/mixed/claims_too_much.py": easy_only,
            "submissions/rejected/wa.py": WRONG,
            "submissions/brute_force/crash.py": CRASH,
            "submissions/brute_force/wa.py": WRONG,
            "submissions/submissions.yaml": (
                "mixed/*:\n"
                "  sample:\n    permitted: [AC]\n"
                "  secret/*-easy:\n    permitted: [AC]\n"
                "  secret/*-hard:\n    required: [WA]\n"
                "mixed/easy_only.py:\n  score: [40, 60]\n  message: \"expected '0'\"\n"
                "mixed/claims_too_much.py:\n  score: 100\n"
            ),
        },
    )
    report, checks = verify(judge, pkg)
    easy = checks["mixed/easy_only.py"]
    assert easy.ok, easy
    assert easy.score == pytest.approx(50)
    too_much = checks["mixed/claims_too_much.py"]
    assert not too_much.ok and too_much.failures == [
        "mixed/claims_too_much.py: score 50, expected 100"
    ]
    assert checks["accepted/good.py"].ok and checks["accepted/good.py"].score == pytest.approx(100)
    assert checks["rejected/wa.py"].ok
    assert checks["brute_force/crash.py"].ok and checks["brute_force/crash.py"].got == "RE"
    assert not checks["brute_force/wa.py"].ok  # a brute force never answers wrongly
    json_rows = {row["submission"]: row for row in report.to_json()["submissions"]}
    assert json_rows["mixed/easy_only.py"]["score"] == pytest.approx(50)
    assert json_rows["brute_force/wa.py"]["failures"]


def test_an_unknown_language_is_skipped_with_a_warning(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data=MODERN,
        files={
            "submissions/accepted/good.py": ADD,
            "submissions/accepted/other.php": "<?php echo 3;\n",
            "submissions/submissions.yaml": "accepted/*.php:\n  language: php\n",
        },
    )
    report, checks = verify(judge, pkg)
    assert report.ok, format_table(report)
    assert list(checks) == ["accepted/good.py"]
    assert sum("other.php" in w for w in report.warnings) == 1


def test_an_input_validator_crashing_everywhere_is_one_error(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        files={
            "submissions/accepted/good.py": ADD,
            "input_validators/check.py": "raise RuntimeError('validator bug')\n",
        },
    )
    report, _ = verify(judge, pkg)
    assert len(report.errors) == 1, report.errors
    assert "3 cases (" in report.errors[0] and "sample/1" in report.errors[0]


def test_a_clean_report_says_what_the_input_checks_covered(judge: Judge, tmp_path: Path) -> None:
    checker = (
        "import sys\nfor line in sys.stdin:\n    a, b = map(int, line.split())\nsys.exit(42)\n"
    )
    pkg = make_package(
        tmp_path,
        files={"submissions/accepted/good.py": ADD, "input_validators/check.py": checker},
    )
    report, _ = verify(judge, pkg)
    assert report.ok, report.errors
    assert report.checked == ["input validators (check.py) accept all 3 test inputs"]
    assert "checked: input validators (check.py)" in format_table(report)

    bare = make_package(tmp_path, "bare", files={"submissions/accepted/good.py": ADD})
    report, _ = verify(judge, bare)
    assert report.checked == ["no input validator: the 3 test inputs are not checked"]


def test_a_wrong_answer_is_judged_to_the_end_in_2025_09(judge: Judge, tmp_path: Path) -> None:
    # WA on the sample, then a crash: only judging every case shows the RTE the
    # wrong_answer folder does not permit (legacy stops at the WA and is content).
    wa_then_crash = "a, b = map(int, input().split())\nprint(0 if a == 1 else 1 // 0)\n"
    files = {"submissions/accepted/good.py": ADD, "submissions/wrong_answer/w.py": wa_then_crash}
    modern = make_package(tmp_path / "modern", yaml_data=MODERN, files=files)
    legacy = make_package(tmp_path / "legacy", files=files)
    _, checks = verify(judge, modern)
    assert not checks["wrong_answer/w.py"].ok
    assert checks["wrong_answer/w.py"].failures == [
        "folder wrong_answer: secret/1 gets RTE, not in [AC, WA]"
    ]
    _, checks = verify(judge, legacy)
    assert checks["wrong_answer/w.py"].ok


def test_use_for_time_limit_false_leaves_a_submission_out(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data=MODERN,
        cases={"sample/1": ("1 2\n", "3\n"), "secret/1": ("1 1\n", "2\n")},
        files={
            "submissions/accepted/fast.py": ADD,
            "submissions/accepted/slow.py": BUSY.format(s=0.6),
            "submissions/submissions.yaml": (
                "accepted:\n  use_for_time_limit: false\naccepted/fast.py:\n  permitted: [AC]\n"
            ),
        },
    )
    no_time_limit(pkg)
    report, checks = verify(judge, pkg)
    # slow.py (0.6 s x 2 > 1 s) would have made it 2 s.
    assert report.time_limit == 1, format_table(report)
    assert checks["accepted/fast.py"].ok


def test_a_score_under_a_group_key_is_the_groups_score(judge: Judge, tmp_path: Path) -> None:
    # g1 (40) and g2 (60, run only once g1 passes); a, b < 5 is g1, the rest g2.
    g1_only = "a, b = map(int, input().split())\nprint(a + b if a < 5 else 0)\n"
    g2_only = "a, b = map(int, input().split())\nprint(a + b if a >= 5 else 0)\n"
    pkg = make_package(
        tmp_path,
        yaml_data={**MODERN, "type": "scoring"},
        cases={
            "sample/1": ("1 2\n", "3\n"),
            "secret/g1/1": ("1 1\n", "2\n"),
            "secret/g2/1": ("7 7\n", "14\n"),
        },
        files={
            "data/secret/g1/test_group.yaml": "max_score: 40\n",
            "data/secret/g2/test_group.yaml": "max_score: 60\nrequire_pass: secret/g1\n",
            "submissions/accepted/good.py": ADD,
            "submissions/partial/g1.py": g1_only,
            "submissions/partial/g2.py": g2_only,
            "submissions/partially_accepted/p.py": g1_only,
            "submissions/submissions.yaml": (
                "partial/g1.py:\n"
                "  secret/g1:\n    score: 40\n"
                "  secret/*:\n    score: [0, 40]\n"  # each group it names: g1 and g2
                "  secret/g9:\n    score: 1\n"  # no such group: warned, not checked
                "partial/g2.py:\n"
                "  secret/g2:\n    score: 60\n"  # g2 is not run: g1 failed
                "  secret:\n    score: 0\n"
                "partially_accepted/p.py:\n  language: python3\n"
            ),
        },
    )
    report, checks = verify(judge, pkg)
    assert checks["partial/g1.py"].ok, checks["partial/g1.py"]
    assert checks["partial/g2.py"].failures == [
        "partial/g2.py secret/g2: secret/g2 score 0, expected 60"
    ]
    assert any("secret/g9 names no scored test group" in w for w in report.warnings)
    assert any(
        "partially_accepted/p.py: partially_accepted has no default rule" in w
        for w in report.warnings
    )
    assert checks["partially_accepted/p.py"].ok  # nothing is checked of it
