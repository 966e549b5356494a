"""The problem package loader, on small packages built in tmp_path."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from codebattle.judge.loader import TESTDATA_DEFAULTS, derive_time_limit, load_package
from codebattle.judge.package import Limits, PackageError, ProblemPackage

BASIC: dict[str, str | bytes] = {
    "problem_statement/problem.en.md": "# Adding Up\n\nAdd two numbers.\n",
    "data/sample/1.in": "1 2\n",
    "data/sample/1.ans": "3\n",
    "data/secret/1.in": "2 2\n",
    "data/secret/1.ans": "4\n",
}


def write(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def package(tmp_path: Path, files: Mapping[str, str | bytes], name: str = "addingup") -> Path:
    return write(tmp_path / name, files)


def load(tmp_path: Path, extra: Mapping[str, str | bytes], basic: bool = True) -> ProblemPackage:
    files = {**BASIC, **extra} if basic else extra
    return load_package(package(tmp_path, files))


def error(tmp_path: Path, extra: Mapping[str, str | bytes], basic: bool = True) -> PackageError:
    with pytest.raises(PackageError) as info:
        load(tmp_path, extra, basic)
    return info.value


# --- problem.yaml -------------------------------------------------------------------------


def test_no_problem_yaml_gives_problemtools_defaults(tmp_path: Path) -> None:
    pkg = load(tmp_path, {})
    assert pkg.root == (tmp_path / "addingup").resolve()
    assert pkg.short_name == "addingup"
    assert pkg.names == {"en": "Adding Up"}  # from the statement's first heading
    assert pkg.limits == Limits()
    assert pkg.limits.time_multiplier == 5.0
    assert pkg.limits.time_safety_margin == 2.0
    assert pkg.limits.memory == 2048
    assert pkg.limits.output == 8
    assert pkg.limits.time_limit is None
    assert pkg.validation == "default"
    assert not pkg.interactive
    assert not pkg.scoring
    assert not pkg.custom_score
    assert pkg.validator_flags == []
    assert pkg.metadata == {}
    assert pkg.data.name == "data"
    assert pkg.data.settings == TESTDATA_DEFAULTS
    assert [g.name for g in pkg.data.groups] == ["data/sample", "data/secret"]
    assert [c.name for c in pkg.tests] == ["sample/1", "secret/1"]
    assert [c.name for c in pkg.samples] == ["sample/1"]
    root = pkg.root
    sample = pkg.samples[0]
    assert (sample.input, sample.answer, sample.sample) == (
        root / "data/sample/1.in",
        root / "data/sample/1.ans",
        True,
    )
    assert pkg.tests[1].sample is False
    # No accepted submission and no fixed time limit: the author is warned.
    assert pkg.warnings == ["submissions: no accepted submission: no time limit to derive"]


def test_name_falls_back_to_folder_name_without_statement(tmp_path: Path) -> None:
    files = {k: v for k, v in BASIC.items() if not k.startswith("problem_statement")}
    pkg = load_package(package(tmp_path, files, name="hello"))
    assert pkg.names == {"en": "hello"}
    assert pkg.statements == {}
    assert any("no problem statement" in w for w in pkg.warnings)


def test_every_limit_field(tmp_path: Path) -> None:
    yaml_text = """
limits:
  time_multiplier: 3
  time_safety_margin: 1.5
  memory: 512
  output: 16
  code: 64
  compilation_time: 30
  compilation_memory: 1024
  validation_time: 20.5
  validation_memory: 256
  validation_output: 4
  time_limit: 2.5
"""
    pkg = load(tmp_path, {"problem.yaml": yaml_text})
    assert pkg.limits == Limits(
        time_multiplier=3.0,
        time_safety_margin=1.5,
        time_limit=2.5,
        memory=512,
        output=16,
        code=64,
        compilation_time=30.0,
        compilation_memory=1024,
        validation_time=20.5,
        validation_memory=256,
        validation_output=4,
    )
    assert isinstance(pkg.limits.memory, int)
    assert isinstance(pkg.limits.time_multiplier, float)
    assert pkg.metadata["limits"]["memory"] == 512


def test_whole_float_sizes_become_ints(tmp_path: Path) -> None:
    pkg = load(tmp_path, {"problem.yaml": "limits:\n  memory: 1024.0\n"})
    assert pkg.limits.memory == 1024
    assert isinstance(pkg.limits.memory, int)


def test_timelimit_file(tmp_path: Path) -> None:
    pkg = load(tmp_path, {".timelimit": "3\n"})
    assert pkg.limits.time_limit == 3.0
    assert not any("accepted" in w for w in pkg.warnings)  # nothing to derive


def test_problem_yaml_time_limit_wins_over_timelimit_file(tmp_path: Path) -> None:
    pkg = load(tmp_path, {".timelimit": "3", "problem.yaml": "limits:\n  time_limit: 2\n"})
    assert pkg.limits.time_limit == 2.0
    assert ".timelimit: ignored: problem.yaml sets limits.time_limit" in pkg.warnings


@pytest.mark.parametrize("content", ["fast", "-1", "0", "nan", ""])
def test_bad_timelimit_file(tmp_path: Path, content: str) -> None:
    err = error(tmp_path, {".timelimit": content})
    assert err.path == ".timelimit"
    assert "number of seconds" in err.message


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ('limits:\n  memory: "lots"\n', "limits.memory"),
        ("limits:\n  memory: 1.5\n", "limits.memory"),
        ("limits:\n  memory: true\n", "limits.memory"),
        ("limits:\n  time_multiplier: -1\n", "limits.time_multiplier"),
        ("limits:\n  validation_time: [1]\n", "limits.validation_time"),
        ("limits:\n  output: .inf\n", "limits.output"),
        ("limits:\n  time_limit: 0\n", "limits.time_limit"),
        ("limits: 5\n", "limits"),
        ("type: interactive\n", "type"),
        ("validation: strict\n", "validation"),
        ("validation: default interactive\n", "validation"),
        ("validation: custom fancy\n", "validation"),
        ("validation: 3\n", "validation"),
        ("validator_flags: {a: 1}\n", "validator_flags"),
        ("name: [a, b]\n", "name"),
        ("name: {en: [x]}\n", "name.en"),
        ("grading: {on_reject: never}\n", "grading.on_reject"),
        ("grading: {accept_score: much}\n", "grading.accept_score"),
    ],
)
def test_wrong_types_name_the_field(tmp_path: Path, yaml_text: str, field: str) -> None:
    err = error(tmp_path, {"problem.yaml": yaml_text})
    assert err.path == "problem.yaml"
    assert err.field == field
    assert str(err).startswith(f"problem.yaml: {field}: ")


def test_memory_lots_message(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": 'limits:\n  memory: "lots"\n'})
    assert str(err) == "problem.yaml: limits.memory: must be a number, got 'lots'"


def test_bad_yaml_reports_the_line(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": "type: pass-fail\nname: a\n  bad: indent\n"})
    assert err.path == "problem.yaml"
    assert "line 3" in err.message
    assert err.message.startswith("invalid YAML at line 3, column 6: ")


def test_problem_yaml_must_be_a_mapping(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": "- a\n- b\n"})
    assert (err.path, err.message) == ("problem.yaml", "must be a mapping of keys to values")


def test_bad_yaml_value_is_a_package_error(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": "date: 2020-13-45\n"})
    assert err.path == "problem.yaml"
    assert "invalid YAML value" in err.message


def test_problem_yaml_not_utf8(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": b"name: caf\xe9\n"})
    assert (err.path, err.message) == ("problem.yaml", "not valid UTF-8 (byte 9)")


def test_empty_problem_yaml_is_all_defaults(tmp_path: Path) -> None:
    pkg = load(tmp_path, {"problem.yaml": ""})
    assert pkg.limits == Limits()
    assert pkg.metadata == {}


def test_unknown_keys_are_kept_in_metadata(tmp_path: Path) -> None:
    text = "author: Ada\nlicense: cc by\nfancy: {deep: [1, 2]}\nlimits:\n  gpus: 3\n"
    pkg = load(tmp_path, {"problem.yaml": text})
    assert pkg.metadata == {
        "author": "Ada",
        "license": "cc by",
        "fancy": {"deep": [1, 2]},
        "limits": {"gpus": 3},
    }
    assert pkg.limits == Limits()


def test_validator_flags_split_on_whitespace(tmp_path: Path) -> None:
    pkg = load(
        tmp_path, {"problem.yaml": "validator_flags: 'float_tolerance  1e-6\tcase_sensitive'"}
    )
    assert pkg.validator_flags == ["float_tolerance", "1e-6", "case_sensitive"]


def test_names_string_and_dict(tmp_path: Path) -> None:
    files = {
        "problem.yaml": "name: Summing\n",
        "problem_statement/problem.ko.md": "# 덧셈\n",
    }
    pkg = load(tmp_path, files)
    assert pkg.names == {"en": "Summing", "ko": "Summing"}

    files["problem.yaml"] = "name:\n  en: Summing\n"
    pkg = load_package(write(tmp_path / "addingup", files))
    assert pkg.names == {"en": "Summing", "ko": "덧셈"}  # ko from its heading


@pytest.mark.parametrize(
    ("text", "kind", "interactive", "scoring", "custom_score"),
    [
        ("validation: custom", "custom", False, False, False),
        ("validation: custom interactive", "custom", True, False, False),
        ("validation: custom score", "custom", False, True, True),
        ("validation: custom interactive score", "custom", True, True, True),
        ("type: scoring\nvalidation: custom", "custom", False, True, False),
        ("type: scoring", "default", False, True, False),
    ],
)
def test_validation_kinds(
    tmp_path: Path, text: str, kind: str, interactive: bool, scoring: bool, custom_score: bool
) -> None:
    pkg = load(tmp_path, {"problem.yaml": text, "output_validators/check.py": "print(1)\n"})
    assert pkg.validation == kind
    assert (pkg.interactive, pkg.scoring, pkg.custom_score) == (interactive, scoring, custom_score)


def test_bad_default_validator_flags_are_caught_when_loading(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": "validator_flags: float_tolerance abc\n"})
    assert (err.path, err.field) == ("problem.yaml", "validator_flags")
    assert "float_tolerance needs a finite number, got 'abc'" in err.message
    err = error(tmp_path / "b", {"data/secret/testdata.yaml": "output_validator_flags: fuzzy\n"})
    assert (err.path, err.field) == ("data/secret/testdata.yaml", "output_validator_flags")
    # Custom validators take any flags.
    files = {
        "problem.yaml": "validation: custom\nvalidator_flags: fuzzy\n",
        "output_validators/v.py": "",
    }
    assert load(tmp_path / "c", files).validator_flags == ["fuzzy"]


def test_custom_validation_needs_an_output_validator(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": "validation: custom interactive\n"})
    assert (err.path, err.field) == ("output_validators", "validation")


def test_deprecated_grading_keys_override_every_group(tmp_path: Path) -> None:
    files = {
        "problem.yaml": "type: scoring\ngrading:\n  accept_score: 7\n  on_reject: grade\n",
        "data/secret/testdata.yaml": "accept_score: 3\n",
    }
    pkg = load(tmp_path, files)
    secret = pkg.data.groups[1]
    assert secret.settings["accept_score"] == 7.0
    assert secret.settings["on_reject"] == "continue"
    assert pkg.data.settings["accept_score"] == 7.0


# --- the folder itself ----------------------------------------------------------------------


def test_folder_with_neither_yaml_nor_data(tmp_path: Path) -> None:
    err = error(tmp_path, {"README.md": "hi\n"}, basic=False)
    assert err.path == "."
    assert "neither problem.yaml nor data/" in err.message


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="not a folder"):
        load_package(tmp_path / "nothing")


def test_problem_yaml_without_data(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem.yaml": "name: x\n"}, basic=False)
    assert err.path == "data"


def test_missing_secret(tmp_path: Path) -> None:
    files = {"data/sample/1.in": "1\n", "data/sample/1.ans": "1\n"}
    err = error(tmp_path, files, basic=False)
    assert err.path == "data/secret"
    assert "missing" in err.message


def test_secret_without_cases(tmp_path: Path) -> None:
    files = {"data/sample/1.in": "1\n", "data/sample/1.ans": "1\n", "data/secret/g1/notes.txt": ""}
    err = error(tmp_path, files, basic=False)
    assert (err.path, err.message) == ("data/secret", "no test cases (X.in with X.ans)")


def test_no_sample_is_a_warning(tmp_path: Path) -> None:
    pkg = load(tmp_path, {"data/secret/1.in": "1\n", "data/secret/1.ans": "1\n"}, basic=False)
    assert "data: no sample test data (data/sample)" in pkg.warnings
    assert [g.name for g in pkg.data.groups] == ["data/secret"]


# --- test data ------------------------------------------------------------------------------


def test_cases_are_sorted_by_plain_name(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {}
    for stem in ["10", "2", "a", "1b"]:
        files[f"data/secret/{stem}.in"] = stem
        files[f"data/secret/{stem}.ans"] = stem
    pkg = load(tmp_path, files)
    assert [c.name for c in pkg.data.groups[1].cases] == [
        "secret/1",
        "secret/10",
        "secret/1b",
        "secret/2",
        "secret/a",
    ]


def test_nested_groups_inherit_settings_key_by_key(tmp_path: Path) -> None:
    files = {
        "problem.yaml": "type: scoring\n",
        "data/testdata.yaml": "output_validator_flags: case_sensitive\n",
        "data/secret/testdata.yaml": "on_reject: continue\naccept_score: 5\ngrader_flags: min\n",
        "data/secret/g1/testdata.yaml": "accept_score: 10\n",
        "data/secret/g1/01.in": "1",
        "data/secret/g1/01.ans": "1",
        "data/secret/g1/deep/testdata.yaml": "grader_flags: max\nrange: 0 30\n",
        "data/secret/g1/deep/x/testdata.yaml": "reject_score: -1\ninput_validator_flags: big\n",
        "data/secret/g1/deep/x/a.in": "1",
        "data/secret/g1/deep/x/a.ans": "1",
        "data/secret/g2/02.in": "1",
        "data/secret/g2/02.ans": "1",
    }
    pkg = load(tmp_path, files)
    secret = pkg.data.groups[1]
    assert [c.name for c in secret.cases] == ["secret/1"]
    g1, g2 = secret.groups
    deep = g1.groups[0]
    x = deep.groups[0]
    assert [g.name for g in (g1, g2, deep, x)] == [
        "data/secret/g1",
        "data/secret/g2",
        "data/secret/g1/deep",
        "data/secret/g1/deep/x",
    ]
    assert secret.settings == {
        **TESTDATA_DEFAULTS,
        "output_validator_flags": "case_sensitive",
        "on_reject": "continue",
        "accept_score": 5.0,
        "grader_flags": "min",
    }
    assert g1.settings["accept_score"] == 10.0
    assert g1.settings["grader_flags"] == "min"
    assert g2.settings["accept_score"] == 5.0
    assert deep.settings["grader_flags"] == "max"
    assert deep.settings["accept_score"] == 10.0
    assert deep.settings["range"] == "0 30"
    assert x.settings == {
        **TESTDATA_DEFAULTS,
        "output_validator_flags": "case_sensitive",
        "on_reject": "continue",
        "accept_score": 10.0,
        "grader_flags": "max",
        "range": "0 30",
        "reject_score": -1.0,
        "input_validator_flags": "big",
    }
    assert pkg.data.groups[0].settings["output_validator_flags"] == "case_sensitive"
    assert [c.name for c in pkg.tests] == [
        "sample/1",
        "secret/1",
        "secret/g1/01",
        "secret/g1/deep/x/a",
        "secret/g2/02",
    ]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("accept_score: x\n", "accept_score"),
        ("reject_score: .nan\n", "reject_score"),
        ("on_reject: stop\n", "on_reject"),
        ("grading: fancy\n", "grading"),
        ("grader_flags: [min]\n", "grader_flags"),
        ("range: 0\n", "range"),
        ("range: 10 0\n", "range"),
    ],
)
def test_testdata_yaml_wrong_types(tmp_path: Path, text: str, field: str) -> None:
    err = error(tmp_path, {"data/secret/testdata.yaml": text})
    assert (err.path, err.field) == ("data/secret/testdata.yaml", field)


def test_testdata_yaml_bad_yaml(tmp_path: Path) -> None:
    err = error(tmp_path, {"data/secret/testdata.yaml": "on_reject: break\naccept_score: [1\n"})
    assert err.path == "data/secret/testdata.yaml"
    assert "line 3" in err.message


def test_testdata_yaml_unknown_key_is_kept_with_a_warning(tmp_path: Path) -> None:
    pkg = load(tmp_path, {"data/secret/testdata.yaml": "colour: blue\n"})
    assert pkg.data.groups[1].settings["colour"] == "blue"
    assert "data/secret/testdata.yaml: unknown key 'colour' kept" in pkg.warnings


def test_input_without_answer(tmp_path: Path) -> None:
    err = error(tmp_path, {"data/secret/g/07.in": "1\n"})
    assert err.path == "data/secret/g/07.in"
    assert err.message == "input file without answer file 07.ans"


def test_answer_without_input(tmp_path: Path) -> None:
    err = error(tmp_path, {"data/secret/07.ans": "1\n"})
    assert err.path == "data/secret/07.ans"


def test_symlinks_inside_the_package_are_followed(tmp_path: Path) -> None:
    root = package(tmp_path, {**BASIC, "shared/big.in": "9 9\n", "shared/big.ans": "18\n"})
    os.symlink("../../shared/big.in", root / "data/secret/2.in")
    os.symlink(root / "shared/big.ans", root / "data/secret/2.ans")  # absolute, still inside
    os.symlink("../sample", root / "data/secret/again")  # a folder symlink
    pkg = load_package(root)
    names = [c.name for c in pkg.tests]
    assert names == ["sample/1", "secret/1", "secret/2", "secret/again/1"]
    case = pkg.tests[2]
    assert case.input == pkg.root / "data/secret/2.in"
    assert case.input.read_text() == "9 9\n"
    assert case.answer.read_text() == "18\n"
    assert pkg.tests[3].sample is False  # judged as secret where it is linked


def test_symlink_outside_the_package_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.in").write_text("1\n")
    root = package(tmp_path, {**BASIC, "data/secret/2.ans": "1\n"})
    os.symlink(tmp_path / "elsewhere.in", root / "data/secret/2.in")
    with pytest.raises(PackageError) as info:
        load_package(root)
    assert info.value.path == "data/secret/2.in"
    assert "outside the package" in info.value.message


def test_folder_symlink_outside_the_package_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "other", {"1.in": "1", "1.ans": "1"})
    root = package(tmp_path, BASIC)
    os.symlink(tmp_path / "other", root / "data/secret/g")
    with pytest.raises(PackageError) as info:
        load_package(root)
    assert info.value.path == "data/secret/g"


def test_broken_and_looping_symlinks(tmp_path: Path) -> None:
    root = package(tmp_path, {**BASIC, "data/secret/2.ans": "1\n"})
    os.symlink("missing.in", root / "data/secret/2.in")
    with pytest.raises(PackageError, match="broken or looping symlink"):
        load_package(root)
    (root / "data/secret/2.in").unlink()
    (root / "data/secret/2.ans").unlink()
    os.symlink("..", root / "data/secret/loop")
    with pytest.raises(PackageError) as info:
        load_package(root)
    assert info.value.path == "data/secret/loop"
    assert "loop" in info.value.message


def test_interaction_files_in_samples(tmp_path: Path) -> None:
    files = {
        "problem.yaml": "validation: custom interactive\n",
        "output_validators/interact.py": "pass\n",
        "data/sample/1.interaction": "<1\n>2\n",
        "data/sample/2.in": "5\n",
        "data/sample/2.interaction": "<5\n",
        "data/secret/1.interaction": "<9\n",
    }
    pkg = load(tmp_path, files)
    one, two = pkg.samples
    root = pkg.root
    assert one.interaction == root / "data/sample/1.interaction"
    assert one.answer == root / "data/sample/1.ans"
    assert two.interaction == root / "data/sample/2.interaction"
    assert two.answer == two.input == root / "data/sample/2.in"
    assert pkg.tests[2].interaction is None
    assert any(w.startswith("data/secret/1.interaction: ignored") for w in pkg.warnings)


def test_top_level_data_extras_are_warned_and_skipped(tmp_path: Path) -> None:
    pkg = load(tmp_path, {"data/0.in": "1", "data/0.ans": "1", "data/invalid/x.in": "1"})
    assert [c.name for c in pkg.tests] == ["sample/1", "secret/1"]
    assert sum("data/ may only hold" in w for w in pkg.warnings) == 3


def test_hidden_files_are_ignored(tmp_path: Path) -> None:
    pkg = load(tmp_path, {"data/secret/.hidden.in": "1", "submissions/accepted/.DS_Store": ""})
    assert [c.name for c in pkg.tests] == ["sample/1", "secret/1"]


# --- statements -----------------------------------------------------------------------------


def test_statements_in_korean_and_english(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "problem_statement/problem.ko.md": "Intro\n\n# 두 수의 합\n",
        "problem_statement/image.png": b"\x89PNG",
    }
    pkg = load(tmp_path, files)
    root = pkg.root
    assert pkg.statements == {
        "en": root / "problem_statement/problem.en.md",
        "ko": root / "problem_statement/problem.ko.md",
    }
    assert pkg.names == {"en": "Adding Up", "ko": "두 수의 합"}


def test_problem_md_is_english_and_statement_folder(tmp_path: Path) -> None:
    files = {k: v for k, v in BASIC.items() if not k.startswith("problem_statement")}
    files["statement/problem.md"] = "# Plain ##\n"
    pkg = load_package(package(tmp_path, files))
    assert pkg.statements == {"en": pkg.root / "statement/problem.md"}
    assert pkg.names == {"en": "Plain"}


def test_tex_statement_is_kept_for_the_importer(tmp_path: Path) -> None:
    files = {k: v for k, v in BASIC.items() if not k.startswith("problem_statement")}
    files["problem_statement/problem.sv.tex"] = "\\problemname{Addera}\nText\n"
    pkg = load_package(package(tmp_path, files))
    assert pkg.statements == {}
    assert pkg.tex_statements == {"sv": pkg.root / "problem_statement/problem.sv.tex"}
    assert pkg.names == {"sv": "Addera"}
    assert not any("problem.sv.tex" in warning for warning in pkg.warnings)


def test_statement_not_utf8(tmp_path: Path) -> None:
    err = error(tmp_path, {"problem_statement/problem.en.md": b"# \xff\n"})
    assert err.path == "problem_statement/problem.en.md"


# --- validators and submissions --------------------------------------------------------------


def test_validators_files_and_folders(tmp_path: Path) -> None:
    files = {
        "problem.yaml": "validation: custom\n",
        "output_validators/check/check.cpp": "int main() {}\n",
        "output_validators/check/testlib.h": "\n",
        "output_validators/zz.py": "pass\n",
        "output_validators/README": "notes\n",
        "input_validators/validate.cc": "int main() {}\n",
        "input_validators/pyval/main.py": "pass\n",
        "input_validators/pyval/sub/helper.py": "pass\n",
    }
    pkg = load(tmp_path, files)
    root = pkg.root
    assert [(v.name, v.path, v.language) for v in pkg.output_validators] == [
        ("check", root / "output_validators/check", "cpp"),
        ("zz.py", root / "output_validators/zz.py", "python"),
    ]
    assert [(v.name, v.language) for v in pkg.input_validators] == [
        ("pyval", "python"),
        ("validate.cc", "cpp"),
    ]
    assert any(w.startswith("output_validators/README: ignored") for w in pkg.warnings)


def test_validator_folder_mixed_languages(tmp_path: Path) -> None:
    files = {"input_validators/v/a.py": "", "input_validators/v/b.cpp": ""}
    err = error(tmp_path, files)
    assert (err.path, err.message) == (
        "input_validators/v",
        "validator folder mixes C++17 (g++) and Python 3 sources",
    )


def test_validator_folder_without_sources(tmp_path: Path) -> None:
    err = error(tmp_path, {"output_validators/v/Makefile": "all:\n"})  # build/run: a program
    assert err.path == "output_validators/v"
    assert err.message.startswith("validator folder has no .cpp, .cc") and ".py" in err.message


def test_default_validation_ignores_output_validators(tmp_path: Path) -> None:
    pkg = load(tmp_path, {"output_validators/check.py": ""})
    assert len(pkg.output_validators) == 1
    assert "output_validators: ignored: validation is default" in pkg.warnings


def test_submissions_by_folder_and_language(tmp_path: Path) -> None:
    files = {
        "submissions/accepted/sol.py": "",
        "submissions/accepted/Fast.java": "",
        "submissions/accepted/a.cc": "",
        "submissions/wrong_answer/wa.cpp": "",
        "submissions/time_limit_exceeded/slow.cxx": "",
        "submissions/run_time_error/crash.py": "",
        "submissions/memory_limit_exceeded/hog.cpp": "",
        "submissions/output_limit_exceeded/spam.py": "",
        "submissions/compile_error/broken.cpp": "",
        "submissions/accepted/sol.rb": "",
        "submissions/accepted/multi/main.py": "",
        "submissions/partially_accepted/p.py": "",
        "submissions/stray.py": "",
    }
    pkg = load(tmp_path, files)
    got = [
        (s.path.relative_to(pkg.root).as_posix(), s.expected, s.language) for s in pkg.submissions
    ]
    assert got == [
        ("submissions/accepted/Fast.java", "accepted", "java"),
        ("submissions/accepted/a.cc", "accepted", "cpp"),
        ("submissions/accepted/multi", "accepted", "python"),  # a folder is one submission
        ("submissions/accepted/sol.py", "accepted", "python"),
        ("submissions/compile_error/broken.cpp", "compile_error", "cpp"),
        ("submissions/memory_limit_exceeded/hog.cpp", "memory_limit_exceeded", "cpp"),
        ("submissions/output_limit_exceeded/spam.py", "output_limit_exceeded", "python"),
        ("submissions/partially_accepted/p.py", "partially_accepted", "python"),
        ("submissions/run_time_error/crash.py", "run_time_error", "python"),
        ("submissions/time_limit_exceeded/slow.cxx", "time_limit_exceeded", "cpp"),
        ("submissions/wrong_answer/wa.cpp", "wrong_answer", "cpp"),
    ]
    warnings = set(pkg.warnings)
    assert any(
        w.startswith("submissions/accepted/sol.rb: ignored: unsupported language (.cpp, .cc")
        for w in warnings
    )
    assert any(w.startswith("submissions/stray.py: ignored") for w in warnings)
    assert not any("no accepted submission" in w for w in warnings)


def test_unreadable_file_is_a_package_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = package(tmp_path, {**BASIC, "problem.yaml": "name: x\n"})

    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(PackageError) as info:
        load_package(root)
    assert str(info.value) == "problem.yaml: cannot read: Permission denied"


def test_unlistable_folder_is_a_package_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = package(tmp_path, BASIC)
    real_listdir = os.listdir

    def listdir(path: str | Path) -> list[str]:
        if Path(path).name == "secret":
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    with pytest.raises(PackageError) as info:
        load_package(root)
    assert str(info.value) == "data/secret: cannot list: Permission denied"


def test_unexpected_errors_become_package_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = package(tmp_path, BASIC)

    def broken(path: str | Path) -> list[str]:
        raise KeyError("boom")

    monkeypatch.setattr(os, "listdir", broken)
    with pytest.raises(PackageError) as info:
        load_package(root)
    assert info.value.path == "."
    assert "KeyError" in info.value.message


# --- time limit -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slowest", "multiplier", "margin", "expected"),
    [
        (0.3, 5, 2, (2.0, 4.0)),  # 1.5 -> 2
        (0.2, 5, 2, (1.0, 2.0)),  # exactly 1
        (0.0, 5, 2, (1.0, 2.0)),  # at least 1
        (0.7, 10, 2, (7.0, 14.0)),  # 7.000000000000001 in floating point is still 7
        (1.01, 3, 1.5, (4.0, 6.0)),  # 3.03 -> 4
        (2.0, 5, 2, (10.0, 20.0)),
    ],
)
def test_derive_time_limit(
    slowest: float, multiplier: float, margin: float, expected: tuple[float, float]
) -> None:
    limits = Limits(time_multiplier=multiplier, time_safety_margin=margin)
    assert derive_time_limit(limits, slowest) == expected


def test_derive_time_limit_fixed() -> None:
    limits = Limits(time_limit=2.5, time_safety_margin=2)
    assert derive_time_limit(limits, 100.0) == (2.5, 5.0)


def test_derive_time_limit_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        derive_time_limit(Limits(), math.nan)
    with pytest.raises(ValueError):
        derive_time_limit(Limits(), -1.0)


# --- both format versions ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["legacy", "2025-09"])
def test_includes_and_string_names_in_both_versions(tmp_path: Path, version: str) -> None:
    statement_dir = "problem_statement" if version == "legacy" else "statement"
    files = {
        "problem.yaml": f"problem_format_version: {version}\nname: Adding Up\nuuid: x\n",
        f"{statement_dir}/problem.en.md": "# Adding Up\n",
        "include/cpp/driver.h": "int f();\n",
    }
    loaded = load(tmp_path, files)
    assert loaded.format_version == version
    assert loaded.names == {"en": "Adding Up"}
    assert set(loaded.includes) == {"cpp"}
    assert loaded.include_files("cpp") == {"driver.h": b"int f();\n"}


def test_legacy_packages_keep_legacy_test_data_rules(tmp_path: Path) -> None:
    """A legacy package's data/secret folders are groups with testdata.yaml settings, and
    test_group.yaml means nothing there."""
    files = {
        "data/secret/g1/1.in": "1 1\n",
        "data/secret/g1/1.ans": "2\n",
        "data/secret/g1/testdata.yaml": "accept_score: 5\n",
        "data/secret/g1/test_group.yaml": "max_score: 5\n",
    }
    loaded = load(tmp_path, files)
    groups = loaded.data.groups[1].groups
    assert [g.name for g in groups] == ["data/secret/g1"]
    assert groups[0].settings["accept_score"] == 5.0 and "max_score" not in groups[0].settings


def test_import_substitutes_constants_in_markdown_statements(tmp_path: Path) -> None:
    from codebattle.problems.importer import version_fields

    files = {
        "problem.yaml": "problem_format_version: 2025-09\nname: Adding Up\nuuid: x\n"
        "constants:\n  max_n: {value: 100000, tex: '10^5'}\n",
        "statement/problem.en.md": "# Adding Up\n\nn <= {{max_n}} ({{max_n.tex}}), {{other}}\n",
    }
    fields = version_fields(load(tmp_path, files), 1.0)  # problem_statement/ is ignored
    assert fields["statements"]["en"] == "# Adding Up\n\nn <= 100000 (10^5), {{other}}\n"
