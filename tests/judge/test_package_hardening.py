"""Hostile or odd packages are read safely: globs that would backtrack or expand without
end, YAML alias bombs and bad values, symlinks out of the package, empty groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.judge.aggregation import secret_score
from codebattle.judge.engine import Judge
from codebattle.judge.expectations import (
    MAX_GLOB_EXPANSIONS,
    GlobTooComplex,
    expand_braces,
    glob_matches,
    group_names,
    read_submissions_yaml,
)
from codebattle.judge.loader import load_package
from codebattle.judge.package import PackageError, TestGroup
from codebattle.judge.validators import programs
from codebattle.judge.verify import Verifier
from tests.support.packages import make_package

V2025 = {"problem_format_version": "2025-09", "uuid": "x"}

# Nine levels of nine: 9**9 copies of "lol" if every alias were written out.
ALIAS_BOMB = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]\n" for level in range(1, 9)
)


# --- globs (finding 1) ------------------------------------------------------------------


def test_a_glob_with_many_stars_is_matched_without_backtracking() -> None:
    # A backtracking regex took minutes on these; the outcome is what is checked here.
    name = "accepted/" + "a" * 60
    assert not glob_matches("accepted/" + "a*" * 9 + "b", name)
    assert glob_matches("accepted/" + "a*" * 9 + "a", name)
    assert glob_matches("accepted/*a*a*", name + "/main.py")  # through the parent folder
    assert not glob_matches("*a*b*c", "xaxcxb")  # pieces must come in order
    assert glob_matches("*a*b*c", "xaxbxc")
    assert glob_matches("a**b", "ab")


def test_a_load_with_a_backtracking_glob_gives_the_right_rules(tmp_path: Path) -> None:
    name = "a" * 60
    pkg = make_package(
        tmp_path,
        files={
            f"submissions/accepted/{name}.py": "print(1)\n",
            "submissions/submissions.yaml": "accepted/" + "a*" * 9 + "b:\n  language: c\n"
            f"accepted/{'a*' * 9}.py:\n  authors: [Ann]\n",
        },
    )
    package = load_package(pkg)
    assert [s.language for s in package.submissions] == ["python"]  # the `b` glob missed
    spec = read_submissions_yaml(pkg, lambda _: None)
    assert spec.metadata(f"accepted/{name}.py").authors == ["Ann"]


def test_a_brace_bomb_is_refused_early_and_warned_about(tmp_path: Path) -> None:
    with pytest.raises(GlobTooComplex):
        expand_braces("{a,b}" * 18)
    assert len(expand_braces("{a,b}" * 8)) == MAX_GLOB_EXPANSIONS
    assert not glob_matches("{a,b}" * 18, "a" * 18)
    assert group_names("secret/" + "{a,b}" * 18, ["secret/" + "a" * 18]) == []
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "submissions.yaml").write_text(
        "accepted:\n  permitted: [AC]\n"
        f"accepted/{'{a,b}' * 18}:\n  permitted: [WA]\n"
        f"accepted/{'x' * 600}:\n  permitted: [WA]\n"
        f"accepted/x.py:\n  secret/{'{a,b}' * 18}:\n    permitted: [WA]\n"
    )
    warnings: list[str] = []
    spec = read_submissions_yaml(tmp_path, warnings.append)
    assert [key for key, _ in spec.entries] == ["accepted", "accepted/x.py"]
    assert spec.entries[1][1] == {}
    assert sum("names over 256 paths" in w for w in warnings) == 2, warnings
    assert any("longer than 500 characters" in w for w in warnings), warnings


# --- YAML (finding 2) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("problem.yaml", "name: adder\nproblem_format_version: 2025-09\n" + ALIAS_BOMB),
        ("data/secret/test_group.yaml", ALIAS_BOMB),
        ("data/secret/1.yaml", ALIAS_BOMB),
    ],
)
def test_an_alias_bomb_is_refused_naming_the_file(tmp_path: Path, path: str, text: str) -> None:
    files = {path: text} if path != "problem.yaml" else {}
    pkg = make_package(tmp_path, yaml_data=V2025, files=files)
    if path == "problem.yaml":
        (pkg / path).write_text(text)
    with pytest.raises(PackageError) as caught:
        load_package(pkg)
    assert caught.value.path == path
    assert "alias" in caught.value.message


def test_an_alias_bomb_in_submissions_yaml_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "submissions.yaml").write_text(
        ALIAS_BOMB + "accepted:\n  message: *l8\n"
    )
    warnings: list[str] = []
    spec = read_submissions_yaml(tmp_path, warnings.append)
    assert spec.entries == []
    assert any("alias" in w for w in warnings), warnings


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data=V2025,
        files={"data/secret/test_group.yaml": "input_validator_args: &x [1, 2]\nargs: *x\n"},
    )
    case = next(c for c in load_package(pkg).tests if c.name == "secret/1")
    assert case.args == ("1", "2")


def test_a_non_string_message_is_warned_about_not_printed(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "submissions.yaml").write_text(
        "accepted:\n  message: [a, b]\n  permitted: [AC]\n"
    )
    warnings: list[str] = []
    spec = read_submissions_yaml(tmp_path, warnings.append)
    assert spec.entries == [("accepted", {"permitted": ["AC"]})]
    assert any("message: ignored, must be a string" in w for w in warnings)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("max_score: 2020-13-45\n", "invalid YAML value"),
        ("args: " + "[" * 2000 + "]" * 2000 + "\n", "nested too deeply"),
    ],
)
def test_bad_yaml_values_name_the_group_file(tmp_path: Path, text: str, what: str) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={**V2025, "type": "scoring"},
        files={"data/secret/test_group.yaml": text},
    )
    with pytest.raises(PackageError) as caught:
        load_package(pkg)
    assert caught.value.path == "data/secret/test_group.yaml"
    assert what in caught.value.message


def test_a_deeply_nested_submissions_yaml_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "submissions.yaml").write_text(
        "accepted: " + "[" * 2000 + "]" * 2000 + "\nwhen: 2020-13-45\n"
    )
    warnings: list[str] = []
    assert read_submissions_yaml(tmp_path, warnings.append).entries == []
    assert any("submissions/submissions.yaml: ignored" in w for w in warnings), warnings


def test_a_long_bad_value_is_shortened_in_the_message(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={**V2025, "uuid": ["x" * 1000] * 1000},
    )
    with pytest.raises(PackageError) as caught:
        load_package(pkg)
    assert caught.value.field == "uuid"
    assert len(str(caught.value)) < 200


# --- symlinks and hidden folders (findings 3, 12) ---------------------------------------


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "judge-secret.txt"
    secret.write_text("not for packages\n")
    return secret


@pytest.mark.parametrize(
    ("link", "extra"),
    [
        ("include/default/leak.txt", {"include/default/x.txt": "x"}),
        ("include/python/sub/leak.txt", {"include/python/sub/x.txt": "x"}),
        ("output_validator/leak.txt", {"output_validator/v.py": "print(1)\n"}),
        ("input_validators/check/leak.txt", {"input_validators/check/v.py": "print(1)\n"}),
        ("input_validators/leak.py", {}),
    ],
)
def test_a_symlink_out_of_the_package_is_refused(
    tmp_path: Path, link: str, extra: dict[str, str]
) -> None:
    pkg = make_package(tmp_path / "p", yaml_data=V2025, files=extra)
    (pkg / link).parent.mkdir(parents=True, exist_ok=True)
    (pkg / link).symlink_to(_outside(tmp_path))
    with pytest.raises(PackageError) as caught:
        load_package(pkg)
    assert caught.value.path == link
    assert "outside the package" in caught.value.message


def test_a_legacy_validator_folder_symlink_out_is_refused(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path / "p",
        yaml_data={"validation": "custom"},
        files={"output_validators/check/v.py": "print(1)\n"},
    )
    (pkg / "output_validators/check/leak.txt").symlink_to(_outside(tmp_path))
    with pytest.raises(PackageError, match="outside the package"):
        load_package(pkg)


def test_building_a_validator_never_reads_a_file_out_of_the_package(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "p", yaml_data=V2025, files={"output_validator/v.py": "1\n"})
    package = load_package(pkg)
    (pkg / "output_validator/leak.txt").symlink_to(_outside(tmp_path))  # after loading
    with pytest.raises(programs.ProgramError, match="outside the package"):
        programs.plan(pkg / "output_validator", "python")
    (pkg / "include/default").mkdir(parents=True)
    (pkg / "include/default/x.txt").write_text("x\n")
    (pkg / "include/default/leak.txt").symlink_to(_outside(tmp_path))
    package.includes = {"default": pkg / "include/default"}
    assert package.include_files("python") == {"x.txt": b"x\n"}


def test_includes_are_found_under_a_hidden_parent_folder(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / ".cache" / "pkgs", yaml_data=V2025)
    (pkg / "include/default/.hidden").mkdir(parents=True)
    (pkg / "include/default/data.txt").write_text("7\n")
    (pkg / "include/default/.hidden/x.txt").write_text("no\n")
    (pkg / "output_validator").mkdir()
    (pkg / "output_validator/v.py").write_text("print(1)\n")
    package = load_package(pkg)
    assert package.include_files("python") == {"data.txt": b"7\n"}
    assert programs.plan(pkg / "output_validator", "python").code == "print(1)\n"


# --- scoring edge cases (findings 6, 7) -------------------------------------------------

SCORE_5 = """import sys
ans = open(sys.argv[2]).read().split()
if sys.stdin.read().split() != ans:
    sys.exit(43)
open(sys.argv[3] + '/score.txt', 'w').write('5')
sys.exit(42)
"""
ADD = "a, b = map(int, input().split())\nprint(a + b)\n"


def test_verify_on_an_unbounded_scoring_problem_checks_score_rules_only(
    judge: Judge, tmp_path: Path
) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={**V2025, "type": "scoring"},
        files={
            "data/secret/test_group.yaml": "max_score: unbounded\n",
            "output_validator/validator.py": SCORE_5,
            "submissions/accepted/a.py": ADD,
            "submissions/accepted/low.py": ADD,
            "submissions/submissions.yaml": "accepted/low.py:\n  score: [0, 1]\n",
        },
    )
    report = Verifier(judge, jobs=2).verify(pkg)
    checks = {c.submission: c for c in report.checks}
    assert checks["accepted/a.py"].ok, checks["accepted/a.py"].detail  # 10: no full score
    low = checks["accepted/low.py"]
    assert not low.ok and "score 10, expected [0, 1]" in low.detail, low.detail


def test_an_empty_test_data_group_is_refused(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={**V2025, "type": "scoring"},
        cases={"sample/1": ("1 2\n", "3\n"), "secret/g1/1": ("1 2\n", "3\n")},
        files={
            "data/secret/g1/test_group.yaml": "max_score: 40\nscore_aggregation: sum\n",
            "data/secret/g2/test_group.yaml": "max_score: 60\nscore_aggregation: sum\n",
        },
    )
    with pytest.raises(PackageError) as caught:
        load_package(pkg)
    assert caught.value.path == "data/secret/g2"
    assert "needs a test case" in caught.value.message


def test_an_empty_sum_group_scores_zero_not_a_division_by_zero() -> None:
    empty = TestGroup("data/secret/g1", {"max_score": 50.0, "score_aggregation": "sum"})
    secret = TestGroup(
        "data/secret",
        {"max_score": 100.0, "score_aggregation": "sum", "require_pass": []},
        groups=[empty],
    )
    assert secret_score(TestGroup("data", {}, groups=[secret]), {}) == 0.0
