"""Reading 2023-07 and 2025-09 packages by their own rules (judge/loader.py,
problem_metadata.py, test_data.py): each key, its errors and warnings."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from codebattle.judge import aggregation
from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import PackageError, ProblemPackage
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"
ECHO_VALIDATOR = "import sys\nsys.exit(42)\n"


def build(
    tmp_path: Path,
    meta: dict[str, Any] | None = None,
    *,
    version: str | None = "2025-09",
    files: dict[str, str] | None = None,
    cases: dict[str, tuple[str, str]] | None = None,
) -> Path:
    data: dict[str, Any] = {"uuid": "0b7a3c1e-5f00-4f6e-9d55-1f2f3a4b5c6d"}
    if version is not None:
        data["problem_format_version"] = version
    data.update(meta or {})
    default_files = {"statement/problem.en.md": "# Adder\n"}
    return make_package(
        tmp_path, yaml_data=data, files={**default_files, **(files or {})}, cases=cases
    )


def load(tmp_path: Path, meta: dict[str, Any] | None = None, **kwargs: Any) -> ProblemPackage:
    return load_package(build(tmp_path, meta, **kwargs))


def error(tmp_path: Path, meta: dict[str, Any] | None = None, **kwargs: Any) -> PackageError:
    with pytest.raises(PackageError) as info:
        load(tmp_path, meta, **kwargs)
    return info.value


def warned(package: ProblemPackage, text: str) -> bool:
    return any(text in warning for warning in package.warnings)


def group_yaml(settings: dict[str, Any]) -> str:
    return yaml.safe_dump(settings)


# --- problem_format_version -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "rules"),
    [
        (None, "legacy"),
        ("legacy", "legacy"),
        ("legacy-icpc", "legacy"),
        ("2023-07", "2023-07"),
        ("2023-07-draft", "2023-07"),
        ("2025-09", "2025-09"),
        ("2025-09-draft", "2025-09"),
        ("draft", "2025-09"),
    ],
)
def test_format_version_chooses_the_rules(tmp_path: Path, given: str | None, rules: str) -> None:
    package = load(tmp_path, version=given)
    assert package.format_version == rules
    assert package.legacy == (rules == "legacy")


def test_an_unknown_format_version_is_an_error(tmp_path: Path) -> None:
    exc = error(tmp_path, version="2024-01")
    assert exc.field == "problem_format_version"
    assert "2024-01" in exc.message


# --- type -------------------------------------------------------------------------------


def test_type_defaults_to_pass_fail(tmp_path: Path) -> None:
    package = load(tmp_path)
    assert package.types == {"pass-fail"}
    assert not package.scoring and not package.interactive


def test_type_list_and_the_specs_space_separated_string(tmp_path: Path) -> None:
    files = {"output_validator/validator.py": ECHO_VALIDATOR}
    package = load(tmp_path / "a", {"type": ["scoring", "interactive"]}, files=files)
    assert package.types == {"scoring", "interactive"}
    assert package.scoring and package.interactive and package.custom_score
    package = load(tmp_path / "b", {"type": "pass-fail interactive"}, files=files)
    assert package.types == {"pass-fail", "interactive"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["pass-fail", "scoring"], "exclude each other"),
        (["interactive", "submit-answer"], "exclude each other"),
        (["scoring", "scoring"], "repeated"),
        ("golf", "must be one of"),
        ([], "non-empty"),
        ("submit-answer", "a duel needs programs"),
    ],
)
def test_bad_types(tmp_path: Path, value: Any, message: str) -> None:
    exc = error(tmp_path, {"type": value})
    assert exc.field == "type" and message in exc.message


def test_multi_pass_is_refused_unless_a_multi_pass_grader_exists(tmp_path: Path) -> None:
    grader = Path(aggregation.__file__).parent / "graders" / "multipass.py"
    files = {"output_validator/validator.py": ECHO_VALIDATOR}
    if grader.exists():
        assert load(tmp_path, {"type": "multi-pass"}, files=files).multi_pass
    else:
        assert "not supported" in error(tmp_path, {"type": "multi-pass"}, files=files).message


def test_interactive_needs_an_output_validator(tmp_path: Path) -> None:
    assert "output validator" in error(tmp_path, {"type": "interactive"}).message


# --- validation -------------------------------------------------------------------------


def test_output_validator_folder_makes_validation_custom(tmp_path: Path) -> None:
    files = {"output_validator/validator.py": ECHO_VALIDATOR}
    package = load(tmp_path, {"constants": {"n": 3}}, files=files)
    assert package.validation == "custom"
    assert [v.path.name for v in package.output_validators] == ["output_validator"]
    assert package.output_validators[0].constants == {"n": "3"}  # for building it
    assert not package.custom_score  # pass-fail: no score.txt


def test_legacy_validation_keys_are_warned_and_ignored(tmp_path: Path) -> None:
    meta = {"validation": "custom", "validator_flags": "case_sensitive"}
    package = load(tmp_path, meta, files={"output_validators/v/v.py": ECHO_VALIDATOR})
    assert package.validation == "default"
    assert package.validator_flags == []
    assert warned(package, "'validation' is legacy only")
    assert warned(package, "'validator_flags' is legacy only")
    assert warned(package, "use output_validator/")


def test_legacy_packages_keep_validation(tmp_path: Path) -> None:
    files = {"output_validators/v/v.py": ECHO_VALIDATOR}
    package = load(tmp_path, {"validation": "custom score"}, version=None, files=files)
    assert package.validation == "custom" and package.custom_score


# --- descriptive keys -------------------------------------------------------------------


def test_full_metadata_loads_and_is_kept(tmp_path: Path) -> None:
    meta = {
        "name": {"en": "Adder"},
        "version": "1.2",
        "credits": {
            "authors": ["Ann <ann@example.com>", {"name": "Bo", "orcid": "0000"}],
            "translators": {"ko": "Kim"},
            "acknowledgements": "Cy",
        },
        "source": [{"name": "Contest 2025", "url": "https://example.com"}, "Other"],
        "license": "cc by-sa",
        "rights_owner": "Ann",
        "keywords": ["math"],
        "difficulty": "easy",
        "allow_file_writing": False,
    }
    package = load(tmp_path, meta)
    assert package.metadata["credits"]["translators"] == {"ko": "Kim"}
    assert package.names == {"en": "Adder"}
    assert package.warnings == []


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"credits": {"authors": [{"email": "x@example.com"}]}}, "credits.authors"),
        ({"credits": 5}, "credits"),
        ({"source": {"url": "https://example.com"}}, "source"),
        ({"license": "gpl"}, "license"),
        ({"license": "public domain", "rights_owner": "Ann"}, "rights_owner"),
        ({"embargo_until": "soon"}, "embargo_until"),
        ({"keywords": "math graphs"}, "keywords"),
        ({"allow_file_writing": "yes"}, "allow_file_writing"),
        ({"uuid": 5}, "uuid"),
    ],
)
def test_bad_descriptive_keys(tmp_path: Path, meta: dict[str, Any], field: str) -> None:
    assert error(tmp_path, meta).field == field


def test_descriptive_warnings(tmp_path: Path) -> None:
    meta = {
        "license": "cc by",
        "embargo_until": datetime.date(2030, 1, 1),
        "allow_file_writing": True,
        "source_url": "https://example.com",
        "favourite_colour": "blue",
        "name": {"en": "Adder", "ko": "덧셈"},
    }
    package = load(tmp_path, meta)
    assert warned(package, "needs a rights owner")
    assert warned(package, "embargoed until 2030-01-01")
    assert warned(package, "allow_file_writing is not supported")
    assert warned(package, "'source_url' is legacy only")
    assert warned(package, "unknown key 'favourite_colour'")
    assert warned(package, "name languages (en, ko) differ from the statements' (en)")


def test_missing_name_and_uuid_are_warned(tmp_path: Path) -> None:
    pkg = build(tmp_path)
    config = yaml.safe_load((pkg / "problem.yaml").read_text())
    del config["name"], config["uuid"]
    (pkg / "problem.yaml").write_text(yaml.safe_dump(config))
    package = load_package(pkg)
    assert warned(package, "name is required") and warned(package, "uuid is required")
    assert package.names == {"en": "Adder"}  # from the statement's heading


# --- languages --------------------------------------------------------------------------


def test_languages(tmp_path: Path) -> None:
    assert load(tmp_path / "a").languages is None
    assert load(tmp_path / "b", {"languages": "all"}).languages is None
    package = load(tmp_path / "c", {"languages": ["python3", "cpp", "cobol"]})
    assert package.languages == {"python", "cpp"}
    assert warned(package, "cannot run 'cobol'")
    assert error(tmp_path / "d", {"languages": ["cobol"]}).field == "languages"
    assert error(tmp_path / "e", {"languages": []}).field == "languages"


def test_a_submission_outside_languages_is_refused_like_a_compile_error(tmp_path: Path) -> None:
    package = load(tmp_path, {"languages": ["cpp"]})
    result = Judge().judge(package, "python", ADD)
    assert result.verdict == Verdict.CE
    assert "not allowed for this problem" in result.compile_output


# --- constants --------------------------------------------------------------------------


def test_constants_scalars_and_variants(tmp_path: Path) -> None:
    meta = {"constants": {"n": 5, "k": {"value": 5000000, "tex": "5 \\cdot 10^6"}}}
    package = load(tmp_path, meta)
    assert package.constants == {"n": "5", "k": "5000000", "k.tex": "5 \\cdot 10^6"}
    assert package.substitute(b"{{n}} {{k.value}} {{k.tex}} {{other}}") == (
        b"5 5000000 5 \\cdot 10^6 {{other}}"
    )


@pytest.mark.parametrize(
    ("constants", "field"),
    [
        ({"9lives": 1}, "constants.9lives"),
        ({"k": {"tex": "5"}}, "constants.k"),
        ({"k": True}, "constants.k.value"),
        ([1, 2], "constants"),
    ],
)
def test_bad_constants(tmp_path: Path, constants: Any, field: str) -> None:
    assert error(tmp_path, {"constants": constants}).field == field


# --- limits -----------------------------------------------------------------------------


def test_limits_2025(tmp_path: Path) -> None:
    limits = {
        "time_multipliers": {"ac_to_time_limit": 3, "time_limit_to_tle": 1.2},
        "time_resolution": 0.5,
        "memory": 256,
        "validation_passes": 3,
        "compilation_time": 30,
    }
    package = load(tmp_path, {"limits": limits})
    assert package.limits.time_multiplier == 3.0
    assert package.limits.time_safety_margin == 1.2
    assert package.limits.time_resolution == 0.5
    assert package.limits.memory == 256 and package.limits.validation_passes == 3
    assert package.limits.compilation_time == 30.0
    assert package.limits.time_limit is None


def test_2025_time_multiplier_defaults_and_legacy_keys(tmp_path: Path) -> None:
    package = load(tmp_path / "a", {"limits": {"time_multiplier": 9, "shoe_size": 4}})
    assert (package.limits.time_multiplier, package.limits.time_safety_margin) == (2.0, 1.5)
    assert warned(package, "limits.time_multiplier is legacy")
    assert warned(package, "unknown key limits.shoe_size")
    legacy = load(tmp_path / "b", {"limits": {"time_multiplier": 9}}, version=None)
    assert (legacy.limits.time_multiplier, legacy.limits.time_safety_margin) == (9.0, 2.0)


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        (
            {"time_multipliers": {"ac_to_time_limit": 0.5}},
            "limits.time_multipliers.ac_to_time_limit",
        ),
        ({"time_multipliers": 2}, "limits.time_multipliers"),
        ({"validation_passes": 1}, "limits.validation_passes"),
        ({"time_resolution": 0}, "limits.time_resolution"),
        ({"memory": 1.5}, "limits.memory"),
    ],
)
def test_bad_limits(tmp_path: Path, limits: dict[str, Any], field: str) -> None:
    assert error(tmp_path, {"limits": limits}).field == field


# --- statements and includes ------------------------------------------------------------


def test_statements_2025(tmp_path: Path) -> None:
    files = {
        "statement/problem.ko.pdf": "%PDF",
        "problem_statement/problem.fr.md": "# Additionneur\n",
    }
    package = load(tmp_path, {"name": {"en": "Adder", "ko": "덧셈"}}, files=files)
    assert set(package.statements) == {"en"}
    assert set(package.pdf_statements) == {"ko"}
    assert not warned(package, "problem.ko.pdf")  # the importer offers it for download
    assert warned(package, "problem_statement: ignored: legacy name")
    assert not warned(package, "differ from the statements'")


def test_includes_by_language_id(tmp_path: Path) -> None:
    files = {
        "include/python3/helper.py": "N = {{n}}\n",
        "include/default/data.txt": "x\n",
        "include/cobol/x.cob": "",
    }
    package = load(tmp_path, {"constants": {"n": 7}}, files=files)
    assert set(package.includes) == {"python", "default"}
    assert package.include_files("python") == {"helper.py": b"N = 7\n"}
    assert package.include_files("cpp") == {"data.txt": b"x\n"}
    assert warned(package, "we have no language 'cobol'")


# --- test data --------------------------------------------------------------------------

GROUPED = {
    "sample/1": ("1 2\n", "3\n"),
    "secret/g1/1": ("1 1\n", "2\n"),
    "secret/g1/sub/0": ("2 2\n", "4\n"),
    "secret/g1/2": ("3 3\n", "6\n"),
    "secret/g2/1": ("4 4\n", "8\n"),
}


def test_groups_are_folders_with_test_group_yaml_in_name_order(tmp_path: Path) -> None:
    files = {
        "data/secret/g1/test_group.yaml": group_yaml({"max_score": 40}),
        "data/secret/g2/test_group.yaml": group_yaml(
            {"max_score": 60, "score_aggregation": "sum", "require_pass": "secret/g1"}
        ),
    }
    package = load(tmp_path, {"type": "scoring"}, files=files, cases=GROUPED)
    secret = package.data.groups[1]
    assert [g.name for g in secret.groups] == ["data/secret/g1", "data/secret/g2"]
    # a plain folder's cases belong to the group, in lexicographic order of their names
    assert [c.name for c in secret.groups[0].cases] == [
        "secret/g1/1",
        "secret/g1/2",
        "secret/g1/sub/0",
    ]
    assert secret.settings["max_score"] == 100.0
    assert secret.groups[0].settings["score_aggregation"] == "pass-fail"
    assert secret.groups[1].settings["require_pass"] == ["data/secret/g1"]
    verdicts = {c.name: True for c in package.tests}
    assert aggregation.package_score(package, verdicts) == 100.0
    assert aggregation.full_score(package) == 100.0


def test_without_groups_secret_folders_are_plain(tmp_path: Path) -> None:
    package = load(tmp_path, cases=GROUPED)
    secret = package.data.groups[1]
    assert secret.groups == []
    assert [c.name for c in secret.cases] == [
        "secret/g1/1",
        "secret/g1/2",
        "secret/g1/sub/0",
        "secret/g2/1",
    ]


def test_the_drafts_scoring_map_and_testdata_yaml(tmp_path: Path) -> None:
    scoring = {"scoring": {"score": 30, "aggregation": "min"}}
    files = {
        "data/secret/testdata.yaml": group_yaml({"scoring": {"aggregation": "sum"}}),
        "data/secret/g1/testdata.yaml": group_yaml(scoring),
        "data/secret/g2/testdata.yaml": group_yaml(
            {"scoring": {"score": 70, "aggregation": "min"}}
        ),
    }
    package = load(tmp_path, {"type": "scoring"}, version="2023-07", files=files, cases=GROUPED)
    g1 = package.data.groups[1].groups[0]
    assert (g1.settings["max_score"], g1.settings["score_aggregation"]) == (30.0, "min")
    assert warned(package, "old name: call it test_group.yaml")
    assert aggregation.package_score(package, {c.name: True for c in package.tests}) == 100.0


def test_in_2023_07_every_secret_folder_is_a_group(tmp_path: Path) -> None:
    files = {"data/secret/g1/test_group.yaml": group_yaml({"max_score": 40})}
    package = load(tmp_path, version="2023-07", files=files, cases=GROUPED)
    assert [g.name for g in package.data.groups[1].groups] == ["data/secret/g1", "data/secret/g2"]
    with pytest.raises(PackageError, match="beside groups"):
        load(tmp_path / "b", files=files, cases=GROUPED)  # 2025-09: g2 is no group


@pytest.mark.parametrize(
    ("files", "cases", "message"),
    [
        ({"data/sample/test_group.yaml": "max_score: 5\n"}, None, "only allowed for data/secret"),
        ({"data/secret/test_group.yaml": "max_score: -1\n"}, None, "non-negative"),
        (
            {"data/secret/test_group.yaml": "score_aggregation: avg\n"},
            None,
            "pass-fail, sum or min",
        ),
        ({"data/secret/test_group.yaml": "args: 5\n"}, None, "list of strings"),
        ({"data/secret/test_group.yaml": "full_feedback: maybe\n"}, None, "true or false"),
        ({"data/secret/2.files/input.txt": "x"}, None, "not supported: input files (.files)"),
        ({"data/secret/3.ans": "x"}, None, "no input file 3.in"),
        (
            {"data/secret/g1/test_group.yaml": "{}", "data/secret/g1/sub/test_group.yaml": "{}"},
            {"secret/g1/sub/1": ("1 1\n", "2\n")},
            "cannot be nested",
        ),
        (
            {"data/secret/g1/test_group.yaml": "{}"},
            {"secret/g1/1": ("1 1\n", "2\n"), "secret/1": ("1 1\n", "2\n")},
            "no cases of its own",
        ),
    ],
)
def test_bad_test_data(
    tmp_path: Path, files: dict[str, str], cases: dict[str, tuple[str, str]] | None, message: str
) -> None:
    assert message in str(error(tmp_path, files=files, cases=cases))


@pytest.mark.parametrize(
    ("g2", "message"),
    [
        ({"max_score": 60, "require_pass": "secret/g3"}, "no test data group"),
        ({"max_score": 60, "require_pass": "secret/g2"}, "does not come earlier"),
        ({"max_score": 60}, None),
    ],
)
def test_require_pass_names_earlier_pass_fail_groups(
    tmp_path: Path, g2: dict[str, Any], message: str | None
) -> None:
    files = {
        "data/secret/g1/test_group.yaml": group_yaml({"max_score": 40, "score_aggregation": "sum"}),
        "data/secret/g2/test_group.yaml": group_yaml({**g2, "require_pass": "secret/g1"})
        if message is None
        else group_yaml(g2),
    }
    meta = {"type": "scoring"}
    if message is None:
        message = "must have pass-fail aggregation"  # g1 sums
    assert message in str(error(tmp_path, meta, files=files, cases=GROUPED))


def test_scoring_groups_need_a_max_score(tmp_path: Path) -> None:
    files = {
        "data/secret/g1/test_group.yaml": "score_aggregation: sum\n",
        "data/secret/g2/test_group.yaml": "max_score: 50\n",
    }
    exc = error(tmp_path, {"type": "scoring"}, files=files, cases=GROUPED)
    assert "needs a max_score" in exc.message


def test_case_settings_inherit_and_override(tmp_path: Path) -> None:
    files = {
        "data/secret/test_group.yaml": group_yaml(
            {
                "args": ["--fast"],
                "output_validator_args": ["float_tolerance", "{{tol}}"],
                "input_validator_args": {"check": ["--max", "10"]},
                "static_validation_score": 5,
                "output_validator_flags": "case_sensitive",
                "input_visualizer_args": ["x"],
            }
        ),
        "data/secret/2.yaml": group_yaml(
            {"args": ["--slow"], "hint": "negative", "description": "sign", "colour": "red"}
        ),
    }
    package = load(tmp_path, {"constants": {"tol": "1e-6"}}, files=files)
    first, second = (c for c in package.tests if not c.sample)
    assert first.args == ("--fast",) and second.args == ("--slow",)
    assert second.settings["hint"] == "negative"
    assert package.output_validator_flags(first) == ["float_tolerance", "1e-6"]
    assert package.group_flags(first, "output_validator_flags") == ["float_tolerance", "1e-6"]
    assert package.input_validator_args(first, "check.py") == ["--max", "10"]
    assert package.input_validator_args(first, "other") == []
    assert package.samples[0].settings["full_feedback"] is True
    assert warned(package, "static validation is not supported")
    assert warned(package, "'output_validator_flags' is legacy")
    assert warned(package, "unknown key 'colour'")
    assert not warned(package, "input_visualizer_args")


def test_bad_default_validator_args_are_refused(tmp_path: Path) -> None:
    files = {"data/secret/1.yaml": "output_validator_args: [float_tolerance]\n"}
    assert "data/secret/1: output_validator_args" in str(error(tmp_path, files=files))


def test_validation_test_data(tmp_path: Path) -> None:
    files = {
        "data/invalid_input/neg.in": "-1 x\n",
        "data/invalid_output/wrong.in": "1 2\n",
        "data/invalid_output/wrong.ans": "3\n",
        "data/invalid_output/wrong.out": "4\n",
        "data/valid_output/spaces.in": "1 2\n",
        "data/valid_output/spaces.ans": "3\n",
        "data/valid_output/spaces.out": " 3 \n",
        "data/secret/1.png": "",
        "data/secret/1.in.statement": "",
    }
    package = load(tmp_path, files=files)
    assert [c.name for c in package.invalid_inputs] == ["invalid_input/neg"]
    assert package.invalid_outputs[0].output == package.root / "data/invalid_output/wrong.out"
    assert [c.name for c in package.valid_outputs] == ["valid_output/spaces"]
    assert all(not c.name.startswith(("invalid", "valid")) for c in package.tests)
    assert package.warnings == []


def test_valid_output_needs_an_out_file(tmp_path: Path) -> None:
    files = {"data/valid_output/a.in": "1 2\n", "data/valid_output/a.ans": "3\n"}
    assert "needs an output file a.out" in str(error(tmp_path, files=files))


def test_a_2025_scoring_problem_judges_to_secrets_max_score(tmp_path: Path) -> None:
    files = {
        "data/secret/g1/test_group.yaml": group_yaml({"max_score": 30, "score_aggregation": "min"}),
        "data/secret/g2/test_group.yaml": group_yaml({"max_score": 70}),
        "submissions/accepted/add.py": ADD,
    }
    package = load(tmp_path, {"type": "scoring"}, files=files, cases=GROUPED)
    result = Judge().judge(package, "python", ADD)
    assert result.verdict == Verdict.AC and result.score == 100.0
    small_only = "a, b = map(int, input().split())\nprint(a + b if a < 4 else 0)\n"
    partial = Judge().judge(package, "python", small_only)
    assert partial.score == 30.0  # g1 passes, g2 (4 4) does not


def test_scoring_keys_in_a_pass_fail_problem_are_warned(tmp_path: Path) -> None:
    files = {"data/secret/test_group.yaml": "max_score: 50\nscore_aggregation: min\n"}
    package = load(tmp_path, files=files)
    assert warned(package, "ignored: max_score is for scoring problems")
    assert warned(package, "ignored: score_aggregation is for scoring problems")


def test_an_unbounded_problem_needs_a_custom_validator(tmp_path: Path) -> None:
    files = {"data/secret/test_group.yaml": "max_score: unbounded\n"}
    exc = error(tmp_path / "a", {"type": "scoring"}, files=files)
    assert exc.field == "max_score" and "score.txt" in exc.message
    files["output_validator/validator.py"] = ECHO_VALIDATOR
    assert aggregation.full_score(load(tmp_path / "b", {"type": "scoring"}, files=files)) is None


def test_a_past_embargo_is_not_warned(tmp_path: Path) -> None:
    package = load(tmp_path, {"embargo_until": "2020-01-01T12:00:00Z"})
    assert not warned(package, "embargoed")


SCORING_VALIDATOR = """import os, sys
given = open(sys.argv[1]).read().split()
if sys.stdin.read().strip() != open(sys.argv[2]).read().strip():
    sys.exit(43)
if given[0] == "4":
    with open(os.path.join(sys.argv[3], "{file}"), "w") as out:
        out.write("{value}")
sys.exit(42)
"""


@pytest.mark.parametrize(
    ("file", "value", "score"),
    [
        ("score_multiplier.txt", "0.5", 30 + 35),
        ("score.txt", "7", 30 + 7),
        ("score.txt", "71", None),
    ],
)
def test_validator_scores_are_aggregated(
    tmp_path: Path, file: str, value: str, score: float | None
) -> None:
    files = {
        "data/secret/g1/test_group.yaml": group_yaml({"max_score": 30, "score_aggregation": "min"}),
        "data/secret/g2/test_group.yaml": group_yaml({"max_score": 70, "score_aggregation": "sum"}),
        "output_validator/validator.py": SCORING_VALIDATOR.format(file=file, value=value),
    }
    package = load(tmp_path, {"type": "scoring"}, files=files, cases=GROUPED)
    result = Judge().judge(package, "python", ADD)
    if score is None:  # 71 is above g2's one case's maximum: a judge error
        assert result.verdict == Verdict.IE and "above the case's maximum 70" in result.message
    else:
        assert result.verdict == Verdict.AC and result.score == score
