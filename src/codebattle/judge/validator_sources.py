"""Finding a package's validators and graders, and what each one is written in:
input_validators/, legacy output_validators/ and graders/ (one program per entry), and the
2025-09 output_validator/ (the folder is the one program). The package loader
(judge/loader.py) mixes this in. How each kind is built: judge/validators/programs.py."""

from __future__ import annotations

import os
from pathlib import Path

from codebattle.judge import languages
from codebattle.judge.languages.base import Language
from codebattle.judge.package import PackageError, TestGroup, ValidatorSource
from codebattle.judge.package_reader import PackageReader
from codebattle.judge.validators import programs


class ValidatorDiscovery(PackageReader):
    def validators(self, dirname: str) -> list[ValidatorSource]:
        """The programs in `dirname` (input_validators, output_validators, graders): each
        file or folder is one program."""
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
            elif entry.suffix == ".ctd" and dirname != "output_validators":
                found.append(ValidatorSource(entry.name, entry, programs.CHECKTESTDATA))
            elif entry.suffix == ".viva":
                self.warn(entry, "ignored: VIVA validators are not supported (use checktestdata)")
            elif entry.suffix == ".c":
                found.append(ValidatorSource(entry.name, entry, "cpp"))  # C: programs.py builds it
            elif language is not None:
                found.append(ValidatorSource(entry.name, entry, language.name))
            else:
                self.warn(
                    entry, f"ignored: not a {_validator_sources()} source, nor a folder of them"
                )
        return found

    def legacy_graders(self, data: TestGroup) -> list[ValidatorSource]:
        """graders/: the one custom grader (problemtools allows one) that groups with
        `grading: custom` use (judge/graders/custom.py)."""
        graders = self.validators("graders")
        custom = _custom_groups(data)
        if len(graders) > 1:
            raise PackageError("graders", "more than one custom grader")
        if custom and not graders:
            raise PackageError(
                f"{custom[0]}/testdata.yaml",
                "custom grading, but graders/ has no grader",
                field="grading",
            )
        if graders and not custom:
            self.warn(self.root / "graders", "unused: no test data group has grading: custom")
        return graders

    def output_validator(self) -> ValidatorSource | None:
        """2025-09 `output_validator/`: one program, the folder itself (or a single file in
        it, which is the same program). None when the package has none."""
        folder = self.root / "output_validator"
        if not folder.exists():
            return None
        if not folder.is_dir():
            raise PackageError("output_validator", "must be a folder (the validator program)")
        return ValidatorSource("output_validator", folder, self.folder_language(folder))

    def folder_language(self, folder: Path) -> str:
        """The kind of program a folder is: build/run scripts, else its sources' language."""
        if (folder / "build").is_file() or (folder / "run").is_file():
            return programs.BUILD_RUN
        found: dict[str, Language] = {}
        for _dirpath, dirnames, filenames in os.walk(folder, onerror=_raise):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for filename in filenames:
                suffix = os.path.splitext(filename)[1]
                language = languages.for_validator(suffix)
                if language is None and suffix == ".c":  # C, built with gcc by programs.py
                    language = languages.get("cpp")
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


def _custom_groups(group: TestGroup) -> list[str]:
    """The names of the groups under `group` (itself included) with `grading: custom`."""
    found = [group.name] if group.settings.get("grading") == "custom" else []
    for sub in group.groups:
        found.extend(_custom_groups(sub))
    return found


def _or_list(words: list[str]) -> str:
    """ "a, b or c"."""
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _validator_sources() -> str:
    """ ".cpp, .cc or .py": what a validator may be written in."""
    return _or_list(languages.extensions(validators=True))


def _raise(exc: OSError) -> None:
    raise exc
