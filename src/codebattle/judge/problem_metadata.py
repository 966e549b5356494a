"""problem.yaml as the 2023-07 and 2025-09 formats write it ("Problem metadata"): the format
version, `type`, `languages`, `constants` and the descriptive keys (credits, source,
license, ...), checked; the package loader (judge/loader.py) mixes this in. Limits are
read by the loader for every version."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codebattle.judge import languages
from codebattle.judge.package import PackageError
from codebattle.judge.package_reader import PackageReader, shown

__all__ = ["FORMAT_VERSIONS", "MetadataReader"]

# problem_format_version -> the rules we follow. A package naming none is legacy.
FORMAT_VERSIONS: dict[str, str] = {
    "legacy": "legacy",
    "legacy-icpc": "legacy",
    "2023-07": "2023-07",
    "2023-07-draft": "2023-07",
    "2025-09": "2025-09",
    "2025-09-draft": "2025-09",
    "draft": "2025-09",
}

_TYPES = ("pass-fail", "scoring", "multi-pass", "interactive", "submit-answer")
_INCOMPATIBLE = (
    ("pass-fail", "scoring"),
    ("multi-pass", "submit-answer"),
    ("interactive", "submit-answer"),
)
_LICENSES = (
    "unknown",
    "public domain",
    "cc0",
    "cc by",
    "cc by-sa",
    "educational",
    "permission",
)
_CREDIT_KEYS = ("authors", "contributors", "testers", "packagers", "acknowledgements")
_PERSON_KEYS = ("name", "email", "orcid", "kattis")
_CONSTANT_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_EMBARGO = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?")

# Every key of the 2025-09 problem.yaml, and our own that stay silent.
_KNOWN_KEYS = frozenset(
    {
        "problem_format_version",
        "type",
        "name",
        "uuid",
        "version",
        "credits",
        "source",
        "license",
        "rights_owner",
        "embargo_until",
        "limits",
        "keywords",
        "languages",
        "allow_file_writing",
        "constants",
        "difficulty",  # ours: easy, medium or hard
    }
)
# Legacy keys a 2025-09 package may still carry, and what took their place.
_LEGACY_KEYS = {
    "validation": "a custom output_validator/ makes validation custom; `type` says the rest",
    "validator_flags": "use output_validator_args in test_group.yaml",
    "author": "use credits",
    "source_url": "use source: {name, url}",
    "grading": "use test_group.yaml max_score and score_aggregation",
}


def _multi_pass_supported() -> bool:
    """Multi-pass problems are judged by graders/multipass.py where it exists."""
    return (Path(__file__).parent / "graders" / "multipass.py").is_file()


def _embargo_end(value: datetime.date | str) -> datetime.datetime:
    """embargo_until as a UTC moment (a date alone: the start of that day)."""
    if isinstance(value, str):
        text = value.replace("Z", "+00:00")
        moment = datetime.datetime.fromisoformat(text if "T" in text else text + "T00:00:00")
    elif isinstance(value, datetime.datetime):
        moment = value
    else:
        moment = datetime.datetime(value.year, value.month, value.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


class MetadataReader(PackageReader):
    def read_format_version(self, config: Mapping[str, Any]) -> str:
        value = config.get("problem_format_version")
        if value is None:
            return "legacy"
        version = FORMAT_VERSIONS.get(str(value).strip())
        if version is None:
            known = ", ".join(FORMAT_VERSIONS)
            raise PackageError(
                "problem.yaml",
                f"unsupported version {shown(value)}: we read {known}",
                field="problem_format_version",
            )
        return version

    def types(self, config: Mapping[str, Any]) -> frozenset[str]:
        """2025-09 `type`: a string or a non-empty list of them, without incompatible pairs."""
        raw = config.get("type", "pass-fail")
        # The spec's own examples write several types as one string ("pass-fail interactive").
        values = raw.split() if isinstance(raw, str) else raw
        if not isinstance(values, list) or not values:
            raise PackageError(
                "problem.yaml", "must be a type or a non-empty list of types", field="type"
            )
        for value in values:
            if value not in _TYPES:
                raise PackageError(
                    "problem.yaml",
                    f"must be one of {', '.join(_TYPES)}, got {shown(value)}",
                    "type",
                )
        if len(set(values)) != len(values):
            raise PackageError("problem.yaml", "a type is repeated", field="type")
        for first, second in _INCOMPATIBLE:
            if first in values and second in values:
                raise PackageError(
                    "problem.yaml", f"{first} and {second} exclude each other", "type"
                )
        types = set(values)
        if "scoring" not in types:
            types.add("pass-fail")
        if "submit-answer" in types:
            raise PackageError(
                "problem.yaml",
                "submit-answer problems are not supported: a duel needs programs",
                field="type",
            )
        if "multi-pass" in types and not _multi_pass_supported():
            raise PackageError(
                "problem.yaml", "multi-pass problems are not supported yet", field="type"
            )
        return frozenset(types)

    def check_keys(self, config: Mapping[str, Any]) -> None:
        """The spec calls an unknown key an error; we warn, and name the legacy keys."""
        path = self.root / "problem.yaml"
        for key in config:
            if key in _LEGACY_KEYS:
                self.warn(path, f"ignored: {key!r} is legacy only ({_LEGACY_KEYS[key]})")
            elif key not in _KNOWN_KEYS:
                self.warn(path, f"ignored: unknown key {key!r}")
        if config.get("name") is None:
            self.warn(path, "name is required")
        if config.get("uuid") is None:
            self.warn(path, "uuid is required")
        for key in ("uuid", "version", "rights_owner"):
            if key in config and not isinstance(config[key], str):
                got = shown(config[key])
                raise PackageError("problem.yaml", f"must be a string, got {got}", key)

    def check_descriptive(self, config: Mapping[str, Any]) -> None:
        """credits, source, license, rights_owner, embargo_until, keywords, allow_file_writing:
        kept in metadata as they are, after checking their shape."""
        if "credits" in config:
            self.credits(config["credits"])
        if "source" in config:
            self.sources(config["source"])
        license_ = config.get("license", "unknown")
        if license_ not in _LICENSES:
            raise PackageError(
                "problem.yaml",
                f"must be one of {', '.join(_LICENSES)}, got {shown(license_)}",
                "license",
            )
        owner = config.get("rights_owner")
        if license_ == "public domain" and owner is not None:
            raise PackageError("problem.yaml", "must not be set for public domain", "rights_owner")
        credits = config.get("credits")
        has_authors = isinstance(credits, str) or (
            isinstance(credits, dict) and credits.get("authors")
        )
        if license_ not in ("unknown", "public domain") and not (
            owner or has_authors or config.get("source")
        ):
            self.warn(
                self.root / "problem.yaml",
                f"license {shown(license_)} needs a rights owner (rights_owner, credits or source)",
            )
        if "embargo_until" in config:
            self.embargo(config["embargo_until"])
        keywords = config.get("keywords")
        if keywords is not None and not (
            isinstance(keywords, list) and all(isinstance(k, str) for k in keywords)
        ):
            raise PackageError("problem.yaml", "must be a list of strings", field="keywords")
        writing = config.get("allow_file_writing", False)
        if not isinstance(writing, bool):
            raise PackageError("problem.yaml", "must be true or false", "allow_file_writing")
        if writing:
            self.warn(
                self.root / "problem.yaml",
                "allow_file_writing is not supported: submissions can only read files",
            )

    def credits(self, value: Any) -> None:
        if isinstance(value, str):
            return
        if not isinstance(value, dict):
            raise PackageError("problem.yaml", "must be a person or a mapping", field="credits")
        for key, persons in value.items():
            field = f"credits.{key}"
            if key == "translators":
                if not isinstance(persons, dict):
                    raise PackageError("problem.yaml", "must map languages to persons", field)
                for lang, translators in persons.items():
                    self.persons(translators, f"{field}.{lang}")
            elif key in _CREDIT_KEYS:
                self.persons(persons, field)
            else:
                self.warn(self.root / "problem.yaml", f"ignored: unknown key {field!r}")

    def persons(self, value: Any, field: str) -> None:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise PackageError("problem.yaml", "must not be empty", field)
        for person in items:
            if isinstance(person, str):
                continue
            if not isinstance(person, dict) or not isinstance(person.get("name"), str):
                raise PackageError(
                    "problem.yaml", "a person is a string or a mapping with a name", field
                )
            for key in person:
                if key not in _PERSON_KEYS:
                    self.warn(self.root / "problem.yaml", f"ignored: unknown key {field}.{key}")

    def sources(self, value: Any) -> None:
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, str):
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise PackageError(
                    "problem.yaml", "a source is a string or a mapping with a name", "source"
                )
            if "url" in entry and not isinstance(entry["url"], str):
                raise PackageError("problem.yaml", "must be a string", field="source.url")

    def embargo(self, value: Any) -> None:
        valid = isinstance(value, datetime.date)  # a datetime is a date too
        if not valid and not (isinstance(value, str) and _EMBARGO.fullmatch(value)):
            raise PackageError(
                "problem.yaml",
                f"must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, got {shown(value)}",
                field="embargo_until",
            )
        if _embargo_end(value) > datetime.datetime.now(datetime.UTC):
            self.warn(
                self.root / "problem.yaml",
                f"embargoed until {value}: do not publish the problem before then",
            )

    def allowed_languages(self, config: Mapping[str, Any]) -> frozenset[str] | None:
        """2025-09 `languages`: our language ids for the codes listed, None for `all`."""
        raw = config.get("languages", "all")
        if raw == "all":
            return None
        codes = [raw] if isinstance(raw, str) else raw
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            raise PackageError(
                "problem.yaml", "must be `all` or a non-empty list of language codes", "languages"
            )
        found: set[str] = set()
        for code in codes:
            language = languages.by_package_code(code)
            if language is None:
                self.warn(self.root / "problem.yaml", f"languages: we cannot run {shown(code)}")
            else:
                found.add(language.name)
        if not found:
            raise PackageError(
                "problem.yaml", "none of these languages can be run here", field="languages"
            )
        return frozenset(found)

    def constants(self, config: Mapping[str, Any]) -> dict[str, str]:
        """2025-09 `constants`: "name" and "name.variant" -> the text {{...}} stands for."""
        raw = config.get("constants")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise PackageError("problem.yaml", "must be a mapping", field="constants")
        out: dict[str, str] = {}
        for name, value in raw.items():
            field = f"constants.{name}"
            if not isinstance(name, str) or not _CONSTANT_NAME.fullmatch(name):
                raise PackageError("problem.yaml", "name must match [a-zA-Z_][a-zA-Z0-9_]*", field)
            variants = value if isinstance(value, dict) else {"value": value}
            if "value" not in variants:
                raise PackageError("problem.yaml", "a map needs a `value`", field)
            for variant, text in variants.items():
                if isinstance(text, bool) or not isinstance(text, int | float | str):
                    raise PackageError(
                        "problem.yaml", "must be a number or a string", f"{field}.{variant}"
                    )
                key = name if variant == "value" else f"{name}.{variant}"
                out[key] = str(text)
        return out
