"""Finding a package's validators: input_validators/, output_validators/ (legacy), and
what each one is written in. The package loader (judge/loader.py) mixes this in."""

from __future__ import annotations

import os
from pathlib import Path

from codebattle.judge import languages
from codebattle.judge.languages.base import Language
from codebattle.judge.package import PackageError, ValidatorSource
from codebattle.judge.package_reader import PackageReader


class ValidatorDiscovery(PackageReader):
    def validators(self, dirname: str) -> list[ValidatorSource]:
        folder = self.root / dirname
        if not folder.exists():
            return []
        if not folder.is_dir():
            raise PackageError(dirname, "must be a folder")
        found: list[ValidatorSource] = []
        for entry in self.entries(folder):
            language = languages.for_validator(entry.suffix)
            if entry.is_dir():
                found.append(ValidatorSource(entry.name, entry, self.folder_language(entry)))
            elif language is not None:
                found.append(ValidatorSource(entry.name, entry, language.name))
            else:
                self.warn(
                    entry, f"ignored: not a {_validator_sources()} source, nor a folder of them"
                )
        return found

    def folder_language(self, folder: Path) -> str:
        found: dict[str, Language] = {}
        for _dirpath, dirnames, filenames in os.walk(folder, onerror=_raise):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for filename in filenames:
                language = languages.for_validator(os.path.splitext(filename)[1])
                if language is not None and not filename.startswith("."):
                    found[language.name] = language
        if not found:
            raise PackageError(
                self.rel(folder), f"validator folder has no {_validator_sources()} source"
            )
        if len(found) > 1:
            mixed = " and ".join(found[name].title for name in sorted(found))
            raise PackageError(self.rel(folder), f"validator folder mixes {mixed} sources")
        return found.popitem()[0]


def _or_list(words: list[str]) -> str:
    """ "a, b or c"."""
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _validator_sources() -> str:
    """ ".cpp, .cc or .py": what a validator may be written in."""
    return _or_list(languages.extensions(validators=True))


def _raise(exc: OSError) -> None:
    raise exc
