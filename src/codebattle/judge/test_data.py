"""data/ as the 2023-07 and 2025-09 formats write it ("Test data", "Test data groups", "Test
data configuration", "Test case configuration", "Validation test data"); the package loader
(judge/loader.py) mixes this in. Legacy data/ is read by the loader itself.

The tree it builds: the data/ root holds data/sample and data/secret; data/secret holds its
test data groups, or cases. A plain folder inside sample, secret or a group is not a group:
its cases belong to the group above, and every group's cases are in lexicographic order of
their names (the judging order). Group settings are the test_group.yaml keys as read, plus
max_score (None: unbounded), score_aggregation and require_pass with their defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codebattle.judge.package import PackageError, TestCase, TestGroup
from codebattle.judge.package_reader import PackageReader, shown

__all__ = ["TestData", "TestDataReader"]

# Settings a case inherits from the test_group.yaml files above it, and may set itself.
_CASE_ARGS = ("args", "output_validator_args")
_INHERITED = ("args", "input_validator_args", "output_validator_args", "full_feedback")
_SILENT = ("input_visualizer_args", "output_visualizer_args")
_CASE_KEYS = frozenset({*_INHERITED, *_SILENT, "hint", "description"})
_SCORING_KEYS = ("max_score", "score_aggregation", "require_pass")
_AGGREGATIONS = ("pass-fail", "sum", "min")
_LEGACY_GROUP_KEYS = {
    "output_validator_flags": "use output_validator_args (a list)",
    "input_validator_flags": "use input_validator_args (a list)",
    "grader_flags": "use score_aggregation",
    "accept_score": "use max_score",
    "reject_score": "a failed case scores 0",
    "on_reject": "every case is judged for scoring problems",
    "grading": "custom graders are legacy only",
    "range": "use max_score",
}
# Files of a case we accept without reading them ("Test cases", "Illustrations").
_SILENT_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".svg",
    ".in.statement",
    ".ans.statement",
    ".in.download",
    ".ans.download",
)
_VALIDATION_DIRS = ("invalid_input", "invalid_output", "valid_output")


@dataclass
class TestData:
    __test__ = False  # not a pytest test class

    root: TestGroup
    invalid_inputs: list[TestCase] = field(default_factory=list)
    invalid_outputs: list[TestCase] = field(default_factory=list)
    valid_outputs: list[TestCase] = field(default_factory=list)


class TestDataReader(PackageReader):
    __test__ = False

    format_version: str = "2025-09"
    scoring_problem: bool = False  # set by the loader: `type` has scoring
    substitute_constants: Callable[[bytes], bytes] | None = None  # set by the loader

    def test_data(self, data_dir: Path) -> TestData:
        if not data_dir.is_dir():
            raise PackageError("data", "no data/ folder with data/secret")
        self.inside_root(data_dir)
        root = TestGroup(name="data", settings={})
        out = TestData(root)
        for entry in self.entries(data_dir):
            if entry.name == "sample" and entry.is_dir():
                root.groups.append(self.plain_group(entry, data_dir, {}, sample=True))
            elif entry.name == "secret" and entry.is_dir():
                root.groups.append(self.secret(entry, data_dir))
            elif entry.name in _VALIDATION_DIRS and entry.is_dir():
                group = self.plain_group(entry, data_dir, {}, sample=False)
                cases = group.all_cases()
                if entry.name == "invalid_input":
                    out.invalid_inputs = cases
                elif entry.name == "invalid_output":
                    out.invalid_outputs = cases
                else:
                    out.valid_outputs = cases
            else:
                allowed = "sample/, secret/, invalid_input/, invalid_output/ and valid_output/"
                self.warn(entry, f"ignored: data/ may only hold {allowed}")
        names = [g.name for g in root.groups]
        if "data/secret" not in names:
            raise PackageError("data/secret", "missing: the secret test data is required")
        if not root.groups[names.index("data/secret")].all_cases():
            raise PackageError("data/secret", "no test cases (X.in with X.ans)")
        if "data/sample" not in names:
            self.warn(data_dir, "no sample test data (data/sample)")
        self.check_require_pass(root)
        return out

    # --- groups --------------------------------------------------------------------------

    def secret(self, folder: Path, data_dir: Path) -> TestGroup:
        settings = self.group_settings(folder, {}, top="secret")
        entries = self.entries(folder)
        subdirs = [e for e in entries if e.is_dir() and not e.name.endswith(".files")]
        if self.format_version == "2023-07":
            group_dirs = subdirs  # the draft: every folder of data/secret is a group
        else:
            group_dirs = [d for d in subdirs if self.group_file(d) is not None]
        if not group_dirs:
            return self.plain_group(folder, data_dir, settings, sample=False, own=settings)
        secret = TestGroup(name=self.rel(folder), settings=settings)
        for entry in entries:
            if entry.suffix == ".in" and entry.is_file():
                raise PackageError(
                    self.rel(entry), "data/secret holds test data groups, so no cases of its own"
                )
            if entry.is_dir() and entry not in group_dirs:
                raise PackageError(
                    self.rel(entry), "not a test data group (no test_group.yaml) beside groups"
                )
        for entry in group_dirs:
            own = self.group_settings(entry, settings, top="group")
            group = self.plain_group(entry, data_dir, own, sample=False, own=own)
            if not group.cases:  # "Test data groups": each has at least one test case
                raise PackageError(self.rel(entry), "a test data group needs a test case")
            secret.groups.append(group)
        return secret

    def plain_group(
        self,
        folder: Path,
        data_dir: Path,
        inherited: Mapping[str, Any],
        *,
        sample: bool,
        own: Mapping[str, Any] | None = None,
    ) -> TestGroup:
        """A group whose folders are plain folders of cases; `own` is its settings when
        already read (secret and groups), else its test_group.yaml is read here."""
        settings = dict(own) if own is not None else self.group_settings(folder, inherited, top="")
        if sample:
            settings.setdefault("full_feedback", True)
        group = TestGroup(name=self.rel(folder), settings=settings)
        self.collect(folder, data_dir, settings, group.cases, sample, {self.root})
        group.cases.sort(key=lambda case: case.name)
        if not group.cases:
            self.warn(folder, "empty test data group")
        return group

    def collect(
        self,
        folder: Path,
        data_dir: Path,
        settings: Mapping[str, Any],
        cases: list[TestCase],
        sample: bool,
        ancestors: set[Path],
    ) -> None:
        real = self.inside_root(folder)
        if real in ancestors:
            raise PackageError(self.rel(folder), "symlink loop in test data folders")
        entries = self.entries(folder)
        names = {entry.name for entry in entries}
        for entry in entries:
            name = entry.name
            if entry.is_dir():
                if name.endswith(".files"):
                    raise PackageError(
                        self.rel(entry), "not supported: input files (.files) for test cases"
                    )
                if f"{name}.in" in names:
                    raise PackageError(self.rel(entry), f"a folder named like case {name}.in")
                judged = entry.relative_to(data_dir).parts[0] in ("sample", "secret")
                if judged and self.group_file(entry) is not None:
                    raise PackageError(
                        self.rel(entry), "test data groups cannot be nested (test_group.yaml)"
                    )
                sub = self.group_settings(entry, settings, top="")
                self.collect(entry, data_dir, sub, cases, sample, ancestors | {real})
            elif name.endswith(".in"):
                cases.append(self.test_case(entry, name[:-3], data_dir, names, settings, sample))
            elif name in ("test_group.yaml", "testdata.yaml") or name.endswith(_SILENT_SUFFIXES):
                continue
            else:
                stem, _, suffix = name.rpartition(".")
                if suffix in ("ans", "out", "yaml", "interaction") and f"{stem}.in" not in names:
                    raise PackageError(self.rel(entry), f"no input file {stem}.in for it")

    def test_case(
        self,
        infile: Path,
        stem: str,
        data_dir: Path,
        names: set[str],
        settings: Mapping[str, Any],
        sample: bool,
    ) -> TestCase:
        folder = infile.parent
        kind = infile.relative_to(data_dir).parts[0]
        self.data_file(infile)
        interaction = folder / f"{stem}.interaction" if f"{stem}.interaction" in names else None
        if interaction is not None:
            self.data_file(interaction)
            if not sample:
                self.warn(interaction, "ignored: .interaction files are only shown for samples")
                interaction = None
        output = folder / f"{stem}.out" if f"{stem}.out" in names else None
        if output is not None:
            self.data_file(output)
        if f"{stem}.ans" in names:
            answer = folder / f"{stem}.ans"
            self.data_file(answer)
        elif kind == "invalid_input" or interaction is not None:
            answer = infile  # no answer needed: invalid inputs, interactive samples
        else:
            raise PackageError(self.rel(infile), f"input file without answer file {stem}.ans")
        if kind in ("invalid_output", "valid_output") and output is None:
            raise PackageError(self.rel(infile), f"needs an output file {stem}.out")
        case_settings = dict(settings)
        if f"{stem}.yaml" in names:
            case_settings.update(self.case_settings(folder / f"{stem}.yaml"))
        return TestCase(
            name=(folder / stem).relative_to(data_dir).as_posix(),
            input=infile,
            answer=answer,
            sample=sample,
            interaction=interaction,
            args=tuple(case_settings.get("args") or ()),
            output=output,
            settings=case_settings,
        )

    def data_file(self, path: Path) -> None:
        if not self.inside_root(path).is_file():
            raise PackageError(self.rel(path), "must be a regular file")

    # --- test_group.yaml and <case>.yaml -------------------------------------------------

    def group_file(self, folder: Path) -> Path | None:
        for name in ("test_group.yaml", "testdata.yaml"):
            if (folder / name).is_file():
                return folder / name
        return None

    def group_settings(
        self, folder: Path, inherited: Mapping[str, Any], *, top: str
    ) -> dict[str, Any]:
        """The settings of `folder`: the inherited case settings, then its test_group.yaml.
        `top` is "secret" or "group" where scoring keys are allowed (with their defaults)."""
        settings = {key: inherited[key] for key in _INHERITED if key in inherited}
        path = self.group_file(folder)
        raw = self.group_yaml(path) if path is not None else {}
        rel = self.rel(path) if path is not None else self.rel(folder)
        scoring = raw.pop("scoring", None)  # the 2023-07 draft's map
        if scoring is not None:
            if not isinstance(scoring, dict):
                raise PackageError(rel, "must be a mapping", field="scoring")
            for old, new in (("score", "max_score"), ("aggregation", "score_aggregation")):
                if old in scoring:
                    raw.setdefault(new, scoring[old])
            if "require_pass" in scoring:
                raw.setdefault("require_pass", scoring["require_pass"])
        for key, value in raw.items():
            if key in _SCORING_KEYS:
                if not top:
                    raise PackageError(rel, "only allowed for data/secret and its groups", key)
                if not self.scoring_problem:
                    self.warn(path or folder, f"ignored: {key} is for scoring problems")
                settings[key] = self.scoring_value(key, value, rel)
            elif key in _INHERITED:
                settings[key] = self.case_value(key, value, rel)
            elif key in ("static_validation_score", "static_validator_args", "static_validation"):
                self.warn(path or folder, f"ignored: static validation is not supported ({key})")
            elif key in _SILENT:
                continue
            elif key in _LEGACY_GROUP_KEYS:
                self.warn(path or folder, f"ignored: {key!r} is legacy ({_LEGACY_GROUP_KEYS[key]})")
            else:
                self.warn(path or folder, f"ignored: unknown key {key!r}")
        if top == "secret":
            settings.setdefault("max_score", 100.0)
            settings.setdefault("score_aggregation", "sum")
        elif top == "group":
            settings.setdefault("max_score", None)
            settings.setdefault("score_aggregation", "pass-fail")
        if top:
            settings.setdefault("require_pass", [])
        return settings

    def group_yaml(self, path: Path) -> dict[str, Any]:
        if path.name == "testdata.yaml":
            self.warn(path, "old name: call it test_group.yaml")
        text = self.read_text(path)
        if self.substitute_constants is not None:
            text = self.substitute_constants(text.encode()).decode()
        raw = self.read_yaml(path, text)
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise PackageError(self.rel(path), "must be a mapping of keys to values")
        return {str(key): value for key, value in raw.items()}

    def case_settings(self, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        rel = self.rel(path)
        for key, value in self.read_mapping(path).items():
            if key in _INHERITED:
                out[key] = self.case_value(key, value, rel)
            elif key in ("hint", "description"):
                if not isinstance(value, str):
                    raise PackageError(rel, "must be a string", field=key)
                out[key] = value
            elif key not in _CASE_KEYS:
                self.warn(path, f"ignored: unknown key {key!r}")
        return out

    def case_value(self, key: str, value: Any, file: str) -> Any:
        if key == "full_feedback":
            if not isinstance(value, bool):
                raise PackageError(file, "must be true or false", field=key)
            return value
        if key == "input_validator_args" and isinstance(value, dict):
            return {
                str(name): self.string_list(args, file, f"{key}.{name}")
                for name, args in value.items()
            }
        return self.string_list(value, file, key)

    def string_list(self, value: Any, file: str, field: str) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):  # a legacy habit: one string of words
            return value.split()
        if isinstance(value, list) and all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
        ):
            return [str(v) for v in value]
        raise PackageError(file, f"must be a list of strings, got {shown(value)}", field=field)

    def scoring_value(self, key: str, value: Any, file: str) -> Any:
        if key == "max_score":
            if value == "unbounded":
                return None
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise PackageError(
                    file, f"must be a non-negative number or unbounded, got {shown(value)}", key
                )
            return float(value)
        if key == "score_aggregation":
            if value not in _AGGREGATIONS:
                raise PackageError(file, f"must be pass-fail, sum or min, got {shown(value)}", key)
            return value
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise PackageError(file, "must be a group name or a list of them", key)
        return [_group_name(name) for name in names]

    def check_require_pass(self, root: TestGroup) -> None:
        """Each required group exists, comes earlier and is pass-fail (or sample)."""
        secret = next(g for g in root.groups if g.name == "data/secret")
        known = {"data/sample"} | {g.name for g in secret.groups}
        for group in [secret, *secret.groups]:
            where = f"{group.name}/test_group.yaml"
            for required in group.settings.get("require_pass", []):
                if required not in known:
                    raise PackageError(where, f"no test data group {required!r}", "require_pass")
                if group is secret and required != "data/sample":
                    raise PackageError(where, "data/secret may only require sample", "require_pass")
                if required != "data/sample" and required >= group.name:
                    raise PackageError(where, f"{required!r} does not come earlier", "require_pass")
                other = next((g for g in secret.groups if g.name == required), None)
                if other is not None and other.settings["score_aggregation"] != "pass-fail":
                    raise PackageError(
                        where, f"{required!r} must have pass-fail aggregation", "require_pass"
                    )


def _group_name(name: str) -> str:
    """A require_pass entry as a group's TestGroup name: "secret/g1" -> "data/secret/g1";
    a bare "g1" is taken as "secret/g1"."""
    name = name.strip().strip("/")
    if name.startswith("data/"):
        return name
    if name == "sample" or name.startswith(("secret/", "sample/")):
        return f"data/{name}"
    return f"data/secret/{name}"
