"""What a loaded problem package holds. The loader fills it; the judge reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class PackageError(Exception):
    """A malformed package: names the file and, where it applies, the field."""

    def __init__(self, path: Path | str, message: str, field: str | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class Limits:
    """problem.yaml `limits`, with problemtools' defaults. Sizes in MiB, times in seconds."""

    time_multiplier: float = 5.0
    time_safety_margin: float = 2.0
    time_limit: float | None = None  # fixed by the package (limits.time_limit or .timelimit)
    memory: int = 2048
    output: int = 8
    code: int = 128
    compilation_time: float = 60.0
    compilation_memory: int = 2048
    validation_time: float = 60.0
    validation_memory: int = 2048
    validation_output: int = 8


@dataclass
class TestCase:
    name: str  # relative to data/ without extension, e.g. "secret/group1/01-small"
    input: Path
    answer: Path
    sample: bool
    interaction: Path | None = None  # data/sample/*.interaction (shown to users only)


@dataclass
class TestGroup:
    """A folder under data/ with its testdata.yaml settings (inherited from parents)."""

    name: str  # "data", "data/sample", "data/secret/group1"
    settings: dict[str, Any]
    cases: list[TestCase] = field(default_factory=list)
    groups: list[TestGroup] = field(default_factory=list)

    def all_cases(self) -> list[TestCase]:
        """Cases in judging order: this group's own cases, then subgroups, sorted by name."""
        out = list(self.cases)
        for group in self.groups:
            out.extend(group.all_cases())
        return out


@dataclass
class ValidatorSource:
    """An input or output validator: one source file, or a folder of sources."""

    name: str
    path: Path
    language: str  # "cpp" or "python"


@dataclass
class PackageSubmission:
    path: Path
    expected: str  # folder name, e.g. "accepted", "wrong_answer"
    language: str


@dataclass
class ProblemPackage:
    root: Path
    short_name: str  # folder name
    names: dict[str, str]  # language code -> problem name
    limits: Limits
    validation: str  # "default" | "custom"
    interactive: bool
    scoring: bool
    validator_flags: list[str]
    data: TestGroup  # the data/ root: groups "data/sample" and "data/secret"
    statements: dict[str, Path]  # language code -> problem.<lang>.md
    output_validators: list[ValidatorSource]
    input_validators: list[ValidatorSource]
    submissions: list[PackageSubmission]
    metadata: dict[str, Any]  # the whole problem.yaml as read
    warnings: list[str] = field(default_factory=list)
    # `validation: custom score`: the output validator writes score.txt for accepted cases.
    custom_score: bool = False

    @property
    def samples(self) -> list[TestCase]:
        return [c for c in self.data.all_cases() if c.sample]

    @property
    def tests(self) -> list[TestCase]:
        """Samples first, then secret cases."""
        return self.data.all_cases()

    def group_flags(self, case: TestCase, key: str) -> list[str]:
        """A testdata.yaml flag list (e.g. `output_validator_flags`) of the group holding
        `case`, split on whitespace."""
        group_name = "data/" + case.name.rsplit("/", 1)[0]
        stack = [self.data]
        while stack:
            group = stack.pop()
            if group.name == group_name:
                value = group.settings.get(key, "")
                return str(value).split() if value else []
            stack.extend(group.groups)
        return []

    def output_validator_flags(self, case: TestCase) -> list[str]:
        """problem.yaml's validator_flags, then the case's group's output_validator_flags."""
        return self.validator_flags + self.group_flags(case, "output_validator_flags")
