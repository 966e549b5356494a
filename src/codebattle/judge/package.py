"""What a loaded problem package holds. The loader fills it; the judge reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Legacy testdata.yaml flag keys and the 2025-09 argument lists that took their place.
_ARGS_KEYS = {
    "input_validator_flags": "input_validator_args",
    "output_validator_flags": "output_validator_args",
}
_CONSTANT_RE = re.compile(rb"\{\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?)\}\}")


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

    time_multiplier: float = 5.0  # legacy; 2025-09: time_multipliers.ac_to_time_limit
    time_safety_margin: float = 2.0  # legacy; 2025-09: time_multipliers.time_limit_to_tle
    time_limit: float | None = None  # fixed by the package (limits.time_limit or .timelimit)
    time_resolution: float = 1.0  # 2025-09: a derived time limit is a multiple of this
    memory: int = 2048
    output: int = 8
    code: int = 128
    compilation_time: float = 60.0
    compilation_memory: int = 2048
    validation_time: float = 60.0
    validation_memory: int = 2048
    validation_output: int = 8
    validation_passes: int = 2  # 2025-09 multi-pass problems


@dataclass
class TestCase:
    __test__ = False  # not a pytest test class

    name: str  # relative to data/ without extension, e.g. "secret/group1/01-small"
    input: Path
    answer: Path
    sample: bool
    interaction: Path | None = None  # data/sample/*.interaction (shown to users only)
    args: tuple[str, ...] = ()  # 2025-09 `args`: command-line arguments of the submission
    output: Path | None = None  # 2025-09 <case>.out: an output (valid_output, invalid_output)
    # 2025-09/2023-07: the case's settings, test_group.yaml's inherited and <case>.yaml's
    # over them: args, input_validator_args (list, or map per validator name),
    # output_validator_args (lists of strings), full_feedback, hint, description.
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class TestGroup:
    """Legacy: a folder under data/ with its testdata.yaml settings (inherited from parents).
    2023-07 and 2025-09: data/sample, data/secret and the test data groups of data/secret,
    with the test_group.yaml settings of their own (scoring: max_score, score_aggregation,
    require_pass); the cases of plain folders inside are the group's own cases."""

    name: str  # "data", "data/sample", "data/secret/group1"
    settings: dict[str, Any]
    cases: list[TestCase] = field(default_factory=list)
    groups: list[TestGroup] = field(default_factory=list)
    __test__ = False  # not a pytest test class

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
    language: str  # a language id ("cpp", "python"), or a validator kind of judge/validators
    # 2025-09 `constants` ("name", "name.variant" -> text): {{name}} in the validator's
    # sources is replaced before building it (see substitute below).
    constants: dict[str, str] = field(default_factory=dict)


@dataclass
class PackageSubmission:
    path: Path  # one source file, or a folder of them (a multi-file submission)
    expected: str  # folder name, e.g. "accepted", "wrong_answer"
    language: str
    entrypoint: str | None = None  # a folder's main file (submissions.yaml `entrypoint`)


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
    # "legacy" (problemtools' format, also for packages that name no version), "2023-07"
    # or "2025-09" (problem.yaml `problem_format_version`); the rules followed depend on it.
    format_version: str = "legacy"
    # 2025-09 `type`: pass-fail or scoring, plus interactive, multi-pass, submit-answer.
    types: frozenset[str] = frozenset({"pass-fail"})
    # 2025-09 `constants`: "name" and "name.variant" -> the text {{name}} is replaced with.
    constants: dict[str, str] = field(default_factory=dict)
    # include/<language>/ folders by language id, and "default" for include/default/.
    includes: dict[str, Path] = field(default_factory=dict)
    # legacy custom graders (graders/), used by groups with `grading: custom`.
    graders: list[ValidatorSource] = field(default_factory=list)
    # 2025-09 `languages`: the language ids a submission may be in; None: every language.
    languages: frozenset[str] | None = None
    # 2025-09 data/invalid_input (.in only), data/invalid_output and data/valid_output
    # (.in, .ans and .out): cases for checking the validators, never judged.
    invalid_inputs: list[TestCase] = field(default_factory=list)
    invalid_outputs: list[TestCase] = field(default_factory=list)
    valid_outputs: list[TestCase] = field(default_factory=list)
    # statement/problem.<lang>.pdf by language: offered as a download where it is the only
    # statement of its language (problems/statements.py).
    pdf_statements: dict[str, Path] = field(default_factory=dict)
    # problem.<lang>.tex by language: converted to Markdown at import (problems/latex.py).
    tex_statements: dict[str, Path] = field(default_factory=dict)

    @property
    def legacy(self) -> bool:
        return self.format_version == "legacy"

    @property
    def multi_pass(self) -> bool:
        return "multi-pass" in self.types

    @property
    def submit_answer(self) -> bool:
        return "submit-answer" in self.types

    def substitute(self, data: bytes) -> bytes:
        """Replace every {{name}} and {{name.variant}} of a known constant (2025-09
        `constants`); unknown names are left as they are, as the format asks."""
        return substitute(data, self.constants)

    def include_files(self, language: str) -> dict[str, bytes]:
        """The files include/<language>/ (else include/default/) adds to every submission
        in `language`, by path relative to that folder, constants substituted. Hidden
        files and symlinks out of the package are left out."""
        folder = self.includes.get(language) or self.includes.get("default")
        if folder is None:
            return {}
        root = folder.parent.parent.resolve()  # the package holding include/<language>/
        files: dict[str, bytes] = {}
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)  # hidden below the folder, not above it
            if not path.is_file() or any(part.startswith(".") for part in rel.parts):
                continue
            if not path.resolve().is_relative_to(root):
                continue  # a symlink out of the package: the loader refuses it
            files[rel.as_posix()] = self.substitute(path.read_bytes())
        return files

    @property
    def samples(self) -> list[TestCase]:
        return [c for c in self.data.all_cases() if c.sample]

    @property
    def tests(self) -> list[TestCase]:
        """Samples first, then secret cases."""
        return self.data.all_cases()

    def group_flags(self, case: TestCase, key: str) -> list[str]:
        """A testdata.yaml flag list (e.g. `output_validator_flags`) of the group holding
        `case`, split on whitespace. In 2023-07/2025-09 packages the case's own list of the
        same meaning (`output_validator_args`; `input_validator_args` when it is a list)."""
        if not self.legacy:
            value = case.settings.get(_ARGS_KEYS.get(key, key))
            return [str(word) for word in value] if isinstance(value, list) else []
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
        """Legacy: problem.yaml's validator_flags, then the case's group's
        output_validator_flags. 2023-07/2025-09: the case's output_validator_args."""
        if not self.legacy:
            return self.group_flags(case, "output_validator_args")
        return self.validator_flags + self.group_flags(case, "output_validator_flags")

    def input_validator_args(self, case: TestCase, validator: str) -> list[str]:
        """The arguments input validator `validator` (its file or folder name, with or
        without extension) gets for `case`: legacy input_validator_flags; 2025-09
        input_validator_args, a list for every validator or a map by validator name."""
        if self.legacy:
            return self.group_flags(case, "input_validator_flags")
        value = case.settings.get("input_validator_args")
        if isinstance(value, dict):
            stem = validator.rsplit(".", 1)[0] if "." in validator else validator
            value = value.get(validator, value.get(stem, []))
        return [str(word) for word in value] if isinstance(value, list) else []


def substitute(data: bytes, constants: dict[str, str]) -> bytes:
    """`data` with each {{name}} / {{name.variant}} of `constants` replaced by its text."""
    if not constants:
        return data

    def replace(match: re.Match[bytes]) -> bytes:
        key = match.group(1).decode()
        value = constants.get(key)
        if value is None and key.endswith(".value"):
            value = constants.get(key[: -len(".value")])
        return match.group(0) if value is None else value.encode()

    return _CONSTANT_RE.sub(replace, data)
