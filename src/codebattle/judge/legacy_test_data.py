"""data/ as legacy (problemtools') packages write it: every folder under data/ a test
group, testdata.yaml settings inherited key by key, problem.yaml's deprecated `grading`
keys over every group, the default validator's flags checked; the package loader
(judge/loader.py) mixes this in. 2023-07/2025-09 data/ is read by test_data.py."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codebattle.judge.package import PackageError, TestCase, TestGroup
from codebattle.judge.package_reader import PackageReader
from codebattle.judge.validators.default import parse_flags

__all__ = ["TESTDATA_DEFAULTS", "LegacyTestDataReader"]

# problemtools' config/testdata.yaml: the settings of the data/ root before any testdata.yaml.
TESTDATA_DEFAULTS: dict[str, Any] = {
    "on_reject": "break",
    "grading": "default",
    "grader_flags": "",
    "accept_score": 1.0,
    "reject_score": 0.0,
    "range": "-inf +inf",
    "input_validator_flags": "",
    "output_validator_flags": "",
}

_CHOICES: dict[str, tuple[str, ...]] = {
    "on_reject": ("break", "continue"),
    "grading": ("default", "custom"),
}
_FLAG_KEYS = ("grader_flags", "input_validator_flags", "output_validator_flags")
_SCORE_KEYS = ("accept_score", "reject_score")


class LegacyTestDataReader(PackageReader):
    def grading_overrides(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """problemtools still honours the deprecated problem.yaml `grading` keys for every group."""
        grading = config.get("grading")
        if grading is None:
            return {}
        if not isinstance(grading, dict):
            raise PackageError("problem.yaml", "must be a mapping", field="grading")
        out: dict[str, Any] = {}
        for key in ("accept_score", "reject_score", "range"):
            if key in grading:
                out[key] = self.setting(key, grading[key], "problem.yaml", f"grading.{key}")
        on_reject = grading.get("on_reject")
        if on_reject is not None:
            mapped = {"first_error": "break", "worst_error": None, "grade": "continue"}
            if on_reject not in mapped:
                raise PackageError(
                    "problem.yaml",
                    f"must be first_error, worst_error or grade, got {on_reject!r}",
                    field="grading.on_reject",
                )
            if mapped[on_reject] is not None:
                out["on_reject"] = mapped[on_reject]
        return out

    def data(self, data_dir: Path, overrides: Mapping[str, Any]) -> TestGroup:
        if not data_dir.is_dir():
            raise PackageError("data", "no data/ folder with data/secret")
        self.inside_root(data_dir)
        settings = dict(TESTDATA_DEFAULTS)
        settings.update(self.testdata(data_dir))
        settings.update(overrides)
        root = TestGroup(name="data", settings=settings)
        for entry in self.entries(data_dir):
            if entry.name in ("sample", "secret") and entry.is_dir():
                ancestors = {self.root, data_dir.resolve()}
                root.groups.append(self.group(entry, data_dir, settings, overrides, ancestors))
            elif entry.name != "testdata.yaml":
                self.warn(entry, "ignored: data/ may only hold sample/, secret/ and testdata.yaml")
        names = [g.name for g in root.groups]
        if "data/secret" not in names:
            raise PackageError("data/secret", "missing: the secret test data is required")
        secret = root.groups[names.index("data/secret")]
        if not secret.all_cases():
            raise PackageError("data/secret", "no test cases (X.in with X.ans)")
        if "data/sample" not in names:
            self.warn(data_dir, "no sample test data (data/sample)")
        return root

    def group(
        self,
        folder: Path,
        data_dir: Path,
        parent_settings: Mapping[str, Any],
        overrides: Mapping[str, Any],
        ancestors: set[Path],
    ) -> TestGroup:
        real = self.inside_root(folder)
        if real in ancestors:
            raise PackageError(self.rel(folder), "symlink loop in test data folders")
        settings = dict(parent_settings)
        settings.update(self.testdata(folder))
        settings.update(overrides)
        group = TestGroup(name=self.rel(folder), settings=settings)
        sample = folder.relative_to(data_dir).parts[0] == "sample"

        entries = self.entries(folder)
        names = {entry.name for entry in entries}
        for entry in entries:
            if entry.is_dir():
                sub = self.group(entry, data_dir, settings, overrides, ancestors | {real})
                group.groups.append(sub)
                continue
            suffix = entry.suffix
            stem = entry.name[: len(entry.name) - len(suffix)]
            if suffix == ".in":
                group.cases.append(self.case(entry, stem, data_dir, names, sample))
            elif suffix == ".ans" and f"{stem}.in" not in names:
                raise PackageError(self.rel(entry), f"answer file without input file {stem}.in")
            elif suffix == ".interaction" and f"{stem}.in" not in names:
                self.warn(entry, f"ignored: no input file {stem}.in")
            elif suffix == ".interaction" and not sample:
                self.warn(entry, "ignored: .interaction files are only shown for samples")
        if not group.cases and not group.groups:
            self.warn(folder, "empty test data group")
        return group

    def case(
        self, infile: Path, stem: str, data_dir: Path, names: set[str], sample: bool
    ) -> TestCase:
        folder = infile.parent
        self.regular_file(infile)
        interaction: Path | None = None
        if sample and f"{stem}.interaction" in names:
            interaction = folder / f"{stem}.interaction"
            self.regular_file(interaction)
        if f"{stem}.ans" in names:
            answer = folder / f"{stem}.ans"
            self.regular_file(answer)
        elif interaction is not None:
            answer = infile  # an interactive sample may come without an answer file
        else:
            raise PackageError(self.rel(infile), f"input file without answer file {stem}.ans")
        name = (folder / stem).relative_to(data_dir).as_posix()
        return TestCase(
            name=name, input=infile, answer=answer, sample=sample, interaction=interaction
        )

    def regular_file(self, path: Path) -> None:
        if not self.inside_root(path).is_file():
            raise PackageError(self.rel(path), "must be a regular file")

    def testdata(self, folder: Path) -> dict[str, Any]:
        path = folder / "testdata.yaml"
        if not path.exists():
            return {}
        rel = self.rel(path)
        settings: dict[str, Any] = {}
        for key, value in self.read_mapping(path).items():
            if key in TESTDATA_DEFAULTS:
                settings[key] = self.setting(key, value, rel, key)
            else:
                self.warn(path, f"unknown key {key!r} kept")
                settings[key] = value
        return settings

    def setting(self, key: str, value: Any, file: str, field: str) -> Any:
        """Check one testdata.yaml value; `file` and `field` say where it came from."""
        if key in _CHOICES:
            if value not in _CHOICES[key]:
                allowed = " or ".join(_CHOICES[key])
                raise PackageError(file, f"must be {allowed}, got {value!r}", field=field)
            return value
        if key in _FLAG_KEYS:
            if value is None:
                return ""
            if not isinstance(value, str):
                raise PackageError(file, f"must be a string of flags, got {value!r}", field=field)
            return value
        if key in _SCORE_KEYS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PackageError(file, f"must be a number, got {value!r}", field=field)
            if not math.isfinite(value):
                raise PackageError(file, f"must be finite, got {value!r}", field=field)
            return float(value)
        if key == "range":
            words = value.split() if isinstance(value, str) else []
            try:
                low, high = (float(w) for w in words)
            except ValueError:
                raise PackageError(
                    file, f"must be two numbers 'min max', got {value!r}", field=field
                ) from None
            if math.isnan(low) or math.isnan(high) or low > high:
                raise PackageError(file, f"min must not exceed max, got {value!r}", field=field)
            return value
        return value

    def check_default_flags(self, validator_flags: list[str], group: TestGroup) -> None:
        """Bad default-validator flags would only show when judging: refuse them now."""
        try:
            parse_flags(validator_flags)
        except ValueError as exc:
            raise PackageError("problem.yaml", str(exc), field="validator_flags") from None
        flags = str(group.settings.get("output_validator_flags") or "").split()
        try:
            parse_flags(validator_flags + flags)
        except ValueError as exc:
            # Name the testdata.yaml the flags came from if this group has one.
            where = f"{group.name}/testdata.yaml"
            raise PackageError(where, str(exc), field="output_validator_flags") from None
        for sub in group.groups:
            self.check_default_flags(validator_flags, sub)
