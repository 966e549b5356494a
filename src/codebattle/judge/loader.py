"""Load a Kattis / ICPC problem package into a ProblemPackage, by the rules of the format
version problem.yaml names (`problem_format_version`): legacy (problemtools' format, also
when no version is named), 2023-07 (the draft) or 2025-09.

`load_package(path)` reads a legacy folder the way problemtools' verifyproblem does (its
data/ through legacy_test_data.py), a 2023-07/2025-09 one as its spec says
(problem_metadata.py reads problem.yaml's new keys, test_data.py the data/ folder), and
checks it; every problem it finds is a `PackageError`
naming the file (relative to the package root) and, where there is one, the field. Softer
problems (a LaTeX-only statement, an unknown submissions folder, ...) are collected in
`ProblemPackage.warnings` instead.
The format as we read it is described for authors in docs/problem-format.md.

`derive_time_limit(limits, slowest_accepted)` turns the slowest accepted CPU time into the
time limit when the package does not fix one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codebattle.judge import aggregation, languages
from codebattle.judge.legacy_test_data import TESTDATA_DEFAULTS, LegacyTestDataReader
from codebattle.judge.package import (
    Limits,
    PackageError,
    PackageSubmission,
    ProblemPackage,
    TestGroup,
    ValidatorSource,
    substitute,
)
from codebattle.judge.package_reader import shown
from codebattle.judge.problem_metadata import MetadataReader
from codebattle.judge.submission_files import SubmissionDiscovery
from codebattle.judge.test_data import TestDataReader
from codebattle.judge.validator_sources import ValidatorDiscovery
from codebattle.judge.validators.default import parse_flags

__all__ = ["TESTDATA_DEFAULTS", "derive_time_limit", "load_package"]

# Limits fields and their types; int fields are sizes (MiB, or KiB for `code`).
_LIMIT_TYPES: dict[str, type] = {
    "time_multiplier": float,
    "time_safety_margin": float,
    "time_limit": float,
    "memory": int,
    "output": int,
    "code": int,
    "compilation_time": float,
    "compilation_memory": int,
    "validation_time": float,
    "validation_memory": int,
    "validation_output": int,
}

# Each pass runs the submission and the validator again: a test's cost grows with it.
MAX_PASSES = 100

# 2025-09 limits: the legacy two multipliers are gone, the rest is as before plus these.
_CURRENT_LIMIT_TYPES: dict[str, type] = {
    **{k: t for k, t in _LIMIT_TYPES.items() if k not in ("time_multiplier", "time_safety_margin")},
    "time_resolution": float,
    "validation_passes": int,
}
_TIME_MULTIPLIERS = {
    "ac_to_time_limit": "time_multiplier",
    "time_limit_to_tle": "time_safety_margin",
}

_STATEMENT_DIRS = ("problem_statement", "statement")
_STATEMENT_RE = re.compile(r"problem(?:\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?))?\.(md|tex)")
# 2025-09 "Problem statements": problem.<language>.<md|tex|pdf>, the language required.
_STATEMENT_2025_RE = re.compile(r"problem\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\.(md|tex|pdf)")
_MD_HEADING_RE = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_TEX_NAME_RE = re.compile(r"\\problemname\{(.*)\}")
# A little slack so that e.g. 0.7 s x 10 (7.000000000000001 in floating point) gives 7, not 8.
_CEIL_EPSILON = 1e-9


def derive_time_limit(limits: Limits, slowest_accepted: float) -> tuple[float, float]:
    """Return (time_limit, margin_limit) in seconds.

    Rule (problemtools, when the package fixes no time limit):
    time_limit = max(1, ceil(slowest_accepted x limits.time_multiplier)) whole seconds,
    where slowest_accepted is the largest CPU time of any accepted submission on any test
    case; margin_limit = time_limit x limits.time_safety_margin, the limit used to tell
    submissions that are only barely too slow from really slow ones.

    When the package fixes the time limit (limits.time_limit or a .timelimit file), that
    value is used as is: (time_limit, time_limit x time_safety_margin).
    """
    margin = limits.time_safety_margin
    if limits.time_limit is not None:
        return float(limits.time_limit), float(limits.time_limit) * margin
    if not math.isfinite(slowest_accepted) or slowest_accepted < 0:
        raise ValueError(f"slowest accepted time must be a finite number >= 0: {slowest_accepted}")
    exact = slowest_accepted * limits.time_multiplier
    time_limit = float(max(1, math.ceil(exact - _CEIL_EPSILON)))
    return time_limit, time_limit * margin


def load_package(path: Path) -> ProblemPackage:
    """Load and check the problem package in folder `path`. Raises PackageError."""
    loader = _Loader(Path(path))
    try:
        return loader.load()
    except PackageError:
        raise
    except OSError as exc:
        where = loader.rel(Path(exc.filename)) if exc.filename else "."
        raise PackageError(where, exc.strerror or str(exc)) from exc
    except RecursionError as exc:
        raise PackageError(".", "folders nested too deeply") from exc
    except Exception as exc:  # a safety net: callers only ever have to catch PackageError
        raise PackageError(".", f"cannot read package: {type(exc).__name__}: {exc}") from exc


class _Loader(
    ValidatorDiscovery, SubmissionDiscovery, MetadataReader, TestDataReader, LegacyTestDataReader
):
    """Reads one package folder (see load_package)."""

    # --- the package ---------------------------------------------------------------------

    def load(self) -> ProblemPackage:
        root = self.root
        if not root.is_dir():
            raise PackageError(str(self.given), "not a folder")
        config_file = root / "problem.yaml"
        data_dir = root / "data"
        if not config_file.exists() and not data_dir.exists():
            raise PackageError(".", "not a problem package: neither problem.yaml nor data/ found")

        config: dict[str, Any] = {}
        if config_file.exists():
            if not config_file.is_file():
                raise PackageError("problem.yaml", "must be a file")
            config = self.read_mapping(config_file)
        self.format_version = self.read_format_version(config)
        if self.format_version == "legacy":
            return self.legacy(config)
        return self.current(config)

    def legacy(self, config: dict[str, Any]) -> ProblemPackage:
        """problemtools' format: problem.yaml `validation`, testdata.yaml flags and scores."""
        root = self.root
        problem_type = self.choice(config, "type", ("pass-fail", "scoring"), "pass-fail")
        validation, params = self.validation(config)
        validator_flags = self.validator_flags(config)
        limits = self.limits(config)
        overrides = self.grading_overrides(config)

        statements, tex, _pdf = self.statements()
        names = self.names(config, statements, tex)

        data = self.data(root / "data", overrides)
        if validation == "default":
            self.check_default_flags(validator_flags, data)
        output_validators = self.validators("output_validators")
        input_validators = self.legacy_input_validators()
        graders = self.legacy_graders(data)
        for program in [*output_validators, *input_validators, *graders]:
            self.files_inside_root(program.path)
        if validation == "custom" and not output_validators:
            raise PackageError(
                "output_validators",
                "validation is custom but there is no output validator",
                field="validation",
            )
        if validation == "default" and output_validators:
            self.warn(root / "output_validators", "ignored: validation is default")

        scoring = problem_type == "scoring" or "score" in params
        types = {"scoring" if scoring else "pass-fail"}
        if "interactive" in params:
            types.add("interactive")
        return self.package(
            config,
            names=names,
            limits=limits,
            validation=validation,
            interactive="interactive" in params,
            scoring=scoring,
            validator_flags=validator_flags,
            data=data,
            statements=statements,
            output_validators=output_validators,
            input_validators=input_validators,
            custom_score="score" in params,
            types=frozenset(types),
            graders=graders,
            tex_statements=tex,
        )

    def current(self, config: dict[str, Any]) -> ProblemPackage:
        """2023-07 and 2025-09: `type` says what the problem is, output_validator/ makes
        validation custom, test_group.yaml configures the data."""
        root = self.root
        self.check_keys(config)
        self.check_descriptive(config)
        types = self.types(config)
        constants = self.constants(config)
        self.substitute_constants = lambda data: substitute(data, constants)
        allowed = self.allowed_languages(config)
        limits = self.limits(config)

        statements, tex, pdf = self.statements()
        names = self.names(config, statements, tex)
        for lang in pdf:
            names.setdefault(lang, root.name)
        self.check_name_languages(config, {*statements, *tex, *pdf})

        scoring = "scoring" in types
        self.scoring_problem = scoring
        test_data = self.test_data(root / "data")
        output_validators = self.current_output_validators()
        validation = "custom" if output_validators else "default"
        self.check_scoring(test_data.root, scoring, validation == "custom")
        if "interactive" in types and not output_validators:
            raise PackageError(
                "output_validator", "an interactive problem needs an output validator", "type"
            )
        if "multi-pass" in types and not output_validators:
            raise PackageError(
                "output_validator", "a multi-pass problem needs an output validator", "type"
            )
        if validation == "default":
            self.check_case_flags(test_data.root)
        input_validators = self.validators("input_validators")
        for validator in [*output_validators, *input_validators]:
            validator.constants = constants
            self.files_inside_root(validator.path)
        return self.package(
            config,
            names=names,
            limits=limits,
            validation=validation,
            interactive="interactive" in types,
            scoring=scoring,
            validator_flags=[],
            data=test_data.root,
            statements=statements,
            output_validators=output_validators,
            input_validators=input_validators,
            custom_score=scoring and validation == "custom",
            format_version=self.format_version,
            types=types,
            constants=constants,
            languages=allowed,
            invalid_inputs=test_data.invalid_inputs,
            invalid_outputs=test_data.invalid_outputs,
            valid_outputs=test_data.valid_outputs,
            pdf_statements=pdf,
            tex_statements=tex,
        )

    def package(self, config: dict[str, Any], **fields: Any) -> ProblemPackage:
        """The package, with what both versions fill the same way."""
        return ProblemPackage(
            root=self.root,
            short_name=self.root.name,
            submissions=self.discovered_submissions(fields["limits"]),
            metadata=dict(config),
            warnings=self.warnings,
            includes=self.includes(),
            **fields,
        )

    def legacy_input_validators(self) -> list[ValidatorSource]:
        found = self.validators("input_validators")
        if not found and (self.root / "input_format_validators").is_dir():
            self.warn(
                self.root / "input_format_validators", "deprecated name; use input_validators"
            )
            found = self.validators("input_format_validators")
        return found

    def current_output_validators(self) -> list[ValidatorSource]:
        """2025-09 output_validator/: one program (validator_sources.py finds it)."""
        found = self.output_validator()
        if found is not None:
            return [found]
        if (self.root / "output_validators").is_dir():
            self.warn(
                self.root / "output_validators", "ignored: legacy name; use output_validator/"
            )
        return []

    def discovered_submissions(self, limits: Limits) -> list[PackageSubmission]:
        submissions = self.submissions(self.format_version)
        if limits.time_limit is None and not any(s.expected == "accepted" for s in submissions):
            self.warn(self.root / "submissions", "no accepted submission: no time limit to derive")
        return submissions

    def check_scoring(self, root: TestGroup, scoring: bool, custom: bool) -> None:
        if not scoring:
            return  # test_data.py warned about any scoring key
        secret = next(g for g in root.groups if g.name == "data/secret")
        try:
            aggregation.check_groups(secret)
        except ValueError as exc:
            raise PackageError(f"{secret.name}/test_group.yaml", str(exc)) from None
        if secret.settings.get("max_score", 100.0) is None and not custom:
            raise PackageError(
                f"{secret.name}/test_group.yaml",
                "an unbounded max_score needs an output validator that writes score.txt",
                field="max_score",
            )

    def check_name_languages(self, config: Mapping[str, Any], statement_langs: set[str]) -> None:
        raw = config.get("name")
        name_langs = (
            {"en"} if isinstance(raw, str) else set(raw) if isinstance(raw, dict) else set()
        )
        if raw is not None and statement_langs and name_langs != statement_langs:
            self.warn(
                self.root / "problem.yaml",
                f"name languages ({', '.join(sorted(name_langs))}) differ from the statements' "
                f"({', '.join(sorted(statement_langs))})",
            )

    def includes(self) -> dict[str, Path]:
        """include/<code>/ by our language id, and include/default/."""
        folder = self.root / "include"
        if not folder.is_dir():
            return {}
        found: dict[str, Path] = {}
        for entry in self.entries(folder):
            if not entry.is_dir():
                self.warn(entry, "ignored: include/ holds one folder per language")
                continue
            self.files_inside_root(entry)
            if not self.entries(entry):
                self.warn(entry, "ignored: empty")
                continue
            if entry.name == "default":
                found["default"] = entry
                continue
            language = languages.by_package_code(entry.name)
            if language is None:
                self.warn(entry, f"ignored: we have no language {entry.name!r}")
            else:
                found[language.name] = entry
        return found

    def files_inside_root(self, path: Path) -> None:
        """`path` and every file below it (hidden ones aside) stay inside the package: an
        include or a validator folder must not bring in a judge file by symlink."""
        self.inside_root(path)
        if path.is_dir():
            for entry in sorted(path.rglob("*")):
                if not any(part.startswith(".") for part in entry.relative_to(path).parts):
                    self.inside_root(entry)

    # --- problem.yaml --------------------------------------------------------------------

    def choice(
        self, config: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str
    ) -> str:
        value = config.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or value not in allowed:
            raise PackageError(
                "problem.yaml",
                f"must be one of {', '.join(allowed)}, got {shown(value)}",
                field=key,
            )
        return value

    def validation(self, config: Mapping[str, Any]) -> tuple[str, list[str]]:
        value = config.get("validation")
        if value is None:
            return "default", []
        allowed = "default, custom, custom interactive, custom score or custom interactive score"
        words = value.split() if isinstance(value, str) else []
        if not words or words[0] not in ("default", "custom"):
            raise PackageError(
                "problem.yaml", f"must be {allowed}, got {shown(value)}", field="validation"
            )
        params = words[1:]
        if (words[0] == "default" and params) or any(
            p not in ("interactive", "score") for p in params
        ):
            raise PackageError(
                "problem.yaml", f"must be {allowed}, got {shown(value)}", field="validation"
            )
        return words[0], params

    def validator_flags(self, config: Mapping[str, Any]) -> list[str]:
        value = config.get("validator_flags")
        if value is None:
            return []
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [word for v in value for word in v.split()]
        raise PackageError("problem.yaml", "must be a string of flags", field="validator_flags")

    def limits(self, config: Mapping[str, Any]) -> Limits:
        raw = config.get("limits")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise PackageError("problem.yaml", "must be a mapping", field="limits")
        if self.format_version != "legacy":
            return self.current_limits(raw)
        values: dict[str, Any] = {}
        for key, kind in _LIMIT_TYPES.items():
            if raw.get(key) is not None:
                values[key] = self.limit_value(raw[key], kind, f"limits.{key}")
        limits = Limits(**values)

        timelimit_file = self.root / ".timelimit"
        if timelimit_file.exists():
            text = self.read_text(timelimit_file).strip()
            try:
                seconds = float(text)
            except ValueError:
                seconds = math.nan
            if not math.isfinite(seconds) or seconds <= 0:
                raise PackageError(
                    ".timelimit", f"must hold a number of seconds, got {shown(text)}"
                )
            if limits.time_limit is None:
                limits.time_limit = seconds
            elif limits.time_limit != seconds:
                self.warn(timelimit_file, "ignored: problem.yaml sets limits.time_limit")
        return limits

    def current_limits(self, raw: Mapping[str, Any]) -> Limits:
        """2025-09 "Limits": time_multipliers (ac_to_time_limit, time_limit_to_tle, both at
        least 1) instead of legacy time_multiplier/time_safety_margin, time_resolution and
        validation_passes besides the sizes and times."""
        config = self.root / "problem.yaml"
        values: dict[str, Any] = {"time_multiplier": 2.0, "time_safety_margin": 1.5}
        for key, value in raw.items():
            field = f"limits.{key}"
            if value is None:
                continue
            if key in ("time_multiplier", "time_safety_margin"):
                self.warn(config, f"ignored: {field} is legacy; use limits.time_multipliers")
            elif key == "time_multipliers":
                if not isinstance(value, dict):
                    raise PackageError("problem.yaml", "must be a mapping", field=field)
                for name, target in _TIME_MULTIPLIERS.items():
                    if value.get(name) is not None:
                        factor = self.limit_value(value[name], float, f"{field}.{name}")
                        if factor < 1:
                            raise PackageError(
                                "problem.yaml",
                                f"must be at least 1, got {factor}",
                                f"{field}.{name}",
                            )
                        values[target] = factor
                for name in value:
                    if name not in _TIME_MULTIPLIERS:
                        self.warn(config, f"ignored: unknown key {field}.{name}")
            elif key in _CURRENT_LIMIT_TYPES:
                values[key] = self.limit_value(value, _CURRENT_LIMIT_TYPES[key], field)
                if key == "validation_passes" and not 2 <= values[key] <= MAX_PASSES:
                    raise PackageError(
                        "problem.yaml", f"must be from 2 to {MAX_PASSES}", field=field
                    )
            else:
                self.warn(config, f"ignored: unknown key {field}")
        if (self.root / ".timelimit").exists():
            self.warn(self.root / ".timelimit", "ignored: legacy only; use limits.time_limit")
        return Limits(**values)

    def limit_value(self, value: Any, kind: type, field: str) -> float | int:
        # bool is an int in Python, but `memory: yes` is surely a mistake.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PackageError("problem.yaml", f"must be a number, got {shown(value)}", field=field)
        if not math.isfinite(value) or value <= 0:
            raise PackageError("problem.yaml", f"must be positive, got {shown(value)}", field=field)
        if kind is int:
            if value != int(value):
                raise PackageError(
                    "problem.yaml", f"must be a whole number, got {value}", field=field
                )
            return int(value)
        return float(value)

    # --- statements and names ------------------------------------------------------------

    def statements(self) -> tuple[dict[str, Path], dict[str, Path], dict[str, Path]]:
        """Markdown statements by language, and LaTeX and (2023-07/2025-09) PDF ones (the
        importer converts LaTeX and offers PDFs: problems/statements.py). Legacy reads
        problem_statement/ and statement/, the newer versions statement/."""
        markdown: dict[str, Path] = {}
        tex: dict[str, Path] = {}
        pdf: dict[str, Path] = {}
        legacy = self.format_version == "legacy"
        pattern = _STATEMENT_RE if legacy else _STATEMENT_2025_RE
        for dirname in _STATEMENT_DIRS:
            folder = self.root / dirname
            if not folder.is_dir():
                continue
            if not legacy and dirname == "problem_statement":
                self.warn(folder, "ignored: legacy name; use statement/")
                continue
            for entry in self.entries(folder):
                match = pattern.fullmatch(entry.name)
                if match is None or not entry.is_file():
                    continue
                lang = match.group(1) or "en"
                kind = match.group(2)
                found = markdown if kind == "md" else tex if kind == "tex" else pdf
                if lang in found:
                    self.warn(entry, f"ignored: a {lang} statement was already found")
                    continue
                found[lang] = entry
        if not markdown and not tex and not pdf:
            where = "problem_statement" if legacy else "statement"
            self.warn(self.root, f"no problem statement ({where}/problem.<lang>.md)")
        return markdown, tex, pdf

    def names(
        self, config: Mapping[str, Any], markdown: dict[str, Path], tex: dict[str, Path]
    ) -> dict[str, str]:
        locales = list(markdown) + [lang for lang in tex if lang not in markdown]
        raw = config.get("name")
        names: dict[str, str] = {}
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            # One name for every statement language.
            names = {lang: str(raw) for lang in locales or ["en"]}
        elif isinstance(raw, dict):
            for lang, value in raw.items():
                if not isinstance(value, str | int | float) or isinstance(value, bool):
                    raise PackageError("problem.yaml", "must be a string", field=f"name.{lang}")
                names[str(lang)] = str(value)
        elif raw is not None:
            raise PackageError(
                "problem.yaml", "must be a string or a mapping language -> name", field="name"
            )
        for lang in locales:
            if lang not in names:
                heading = self.statement_heading(markdown.get(lang) or tex[lang])
                if heading:
                    names[lang] = heading
        if not names:
            names = {lang: self.root.name for lang in locales or ["en"]}
        return names

    def statement_heading(self, path: Path) -> str | None:
        text = self.read_text(path)
        pattern = _TEX_NAME_RE if path.suffix == ".tex" else _MD_HEADING_RE
        match = pattern.search(text)
        return (match.group(1).strip() or None) if match else None

    def check_case_flags(self, root: TestGroup) -> None:
        """2023-07/2025-09 with the default validator: each case's output_validator_args."""
        for case in root.all_cases():
            flags = [str(a) for a in case.settings.get("output_validator_args") or []]
            try:
                parse_flags(flags)
            except ValueError as exc:
                where = f"data/{case.name}: output_validator_args"
                raise PackageError(where, str(exc)) from None
