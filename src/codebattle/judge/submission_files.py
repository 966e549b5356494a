"""Finding a package's example submissions under submissions/<folder>/, and reading one.

A submission is one file or one folder of files (2025-09 "Programs"). Its language is
submissions.yaml's `language`, else the one language its file extensions name; its
entrypoint is submissions.yaml's `entrypoint`, else the languages table's default (see
`default_entrypoint`). The package loader (judge/loader.py) mixes SubmissionDiscovery in;
`submission_sources` reads a found submission for the judge, constants substituted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from codebattle.judge import languages
from codebattle.judge.expectations import (
    DEFAULT_RULES,
    SubmissionMeta,
    SubmissionsYaml,
    read_submissions_yaml,
)
from codebattle.judge.languages.base import Language
from codebattle.judge.package import PackageSubmission, ProblemPackage
from codebattle.judge.package_reader import PackageReader
from codebattle.judge.verdicts import EXPECTED_BY_FOLDER

# Folders every package may use, by format version; 2025-09 packages may add their own by
# naming them in submissions.yaml ("Default directories").
LEGACY_FOLDERS = frozenset(EXPECTED_BY_FOLDER) | {"partially_accepted"}
CURRENT_FOLDERS = frozenset(DEFAULT_RULES)

_JAVA_MAIN = re.compile(rb"\bstatic\s+(?:final\s+)?void\s+main\s*\(")
_CPP_MAIN = re.compile(rb"\bmain\s*\(")


class SubmissionDiscovery(PackageReader):
    def submissions(self, format_version: str | None = None) -> list[PackageSubmission]:
        """The submissions under submissions/; `format_version` ("legacy", "2025-09"...)
        as the loader read it, else read from problem.yaml here."""
        folder = self.root / "submissions"
        if not folder.is_dir():
            return []
        settings = read_submissions_yaml(self.root, self.warnings.append)
        legacy = (format_version or self.problem_format_version()) == "legacy"
        found: list[PackageSubmission] = []
        for verdict_dir in self.entries(folder):
            if verdict_dir.name == "submissions.yaml":
                continue  # read above
            if not verdict_dir.is_dir():
                self.warn(verdict_dir, "ignored: submissions go in a folder such as accepted/")
                continue
            entries = self.entries(verdict_dir)
            if not self.known_folder(verdict_dir.name, entries, legacy, settings):
                self.warn(verdict_dir, "ignored: unknown submissions folder")
                continue
            for entry in entries:
                rel = f"{verdict_dir.name}/{entry.name}"
                submission = self.submission(entry, verdict_dir.name, settings.metadata(rel))
                if submission is not None:
                    found.append(submission)
        return sorted(found, key=lambda s: s.path)

    def problem_format_version(self) -> str:
        """The version problem.yaml names, or "legacy" (the loader checks the value)."""
        config = self.root / "problem.yaml"
        if not config.is_file():
            return "legacy"
        version = self.read_mapping(config).get("problem_format_version")
        return "legacy" if version in (None, "legacy", "legacy-icpc") else str(version)

    @staticmethod
    def known_folder(
        name: str, entries: list[Path], legacy: bool, settings: SubmissionsYaml
    ) -> bool:
        """A folder of the version's defaults or, in 2025-09, one submissions.yaml names."""
        if legacy:
            return name in LEGACY_FOLDERS
        return name in CURRENT_FOLDERS or any(
            settings.matching(f"{name}/{entry.name}") for entry in entries
        )

    def submission(
        self, entry: Path, folder: str, meta: SubmissionMeta
    ) -> PackageSubmission | None:
        """One file or folder under submissions/<folder>/, or None (with a warning)."""
        files = self.program_files(entry)
        if not files:
            self.warn(entry, "ignored: no files")
            return None
        language = self.submission_language(entry, files, meta.language)
        if language is None:
            return None
        if entry.is_file():
            return PackageSubmission(entry, folder, language.name)
        entrypoint = entrypoint_file(language, files, meta.entrypoint)
        if entrypoint is None:
            wanted = meta.entrypoint or default_entrypoint_rule(language)
            self.warn(entry, f"ignored: no entrypoint ({wanted})")
            return None
        return PackageSubmission(entry, folder, language.name, entrypoint)

    def program_files(self, entry: Path) -> dict[str, Path]:
        """The files of a submission by path relative to its folder (a single file: its
        name); hidden files left out, symlinks kept inside the package."""
        if entry.is_file():
            return {entry.name: self.inside_root(entry)}
        files: dict[str, Path] = {}
        for path in sorted(entry.rglob("*")):
            rel = path.relative_to(entry)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            files[rel.as_posix()] = self.inside_root(path)
        return files

    def submission_language(
        self, entry: Path, files: dict[str, Path], code: str | None
    ) -> Language | None:
        if code is not None:
            language = languages.by_package_code(code) or languages.LANGUAGES.get(code)
            if language is None:
                self.warn(entry, f"ignored: language {code!r} (submissions.yaml) is not supported")
            return language
        found = languages_of(files)
        if len(found) == 1:
            return found[0]
        if not found:
            known = ", ".join(languages.extensions())
            self.warn(entry, f"ignored: unsupported language ({known})")
        else:
            named = ", ".join(lang.name for lang in found)
            self.warn(
                entry,
                f"ignored: sources in several languages ({named}); "
                "name one with `language` in submissions/submissions.yaml",
            )
        return None


def languages_of(names: Iterable[str]) -> list[Language]:
    """The languages the extensions of `names` belong to, by id."""
    found = {
        lang.name: lang
        for name in names
        if (lang := languages.by_extension(PurePosixPath(name).suffix)) is not None
    }
    return [found[name] for name in sorted(found)]


def default_entrypoint_rule(language: Language) -> str:
    """The languages table's default entrypoint, in words, for messages and docs."""
    if language.name == "java":
        return "the class with a main method, else Main.java"
    if language.name == "cpp":
        return "the source with main(); all sources are compiled together"
    return "__main__.py, else the only .py file, else main.py"


def entrypoint_file(language: Language, files: dict[str, Path], named: str | None) -> str | None:
    """Which of a folder submission's `files` is its main file: submissions.yaml's
    `entrypoint` (a file, or for Java also a class name such as `Main` or `pkg.Main`), else
    the languages table's default. None when there is no such file."""
    if named is not None:
        candidates = [named.strip("/")]
        if language.name == "java" and not named.endswith(".java"):
            candidates.append(named.replace(".", "/") + ".java")
        return next((c for c in candidates if c in files), None)
    sources = [n for n in files if PurePosixPath(n).suffix in language.extensions]
    if language.name == "java":
        mains = [n for n in sources if _JAVA_MAIN.search(files[n].read_bytes())]
        if len(mains) == 1:
            return mains[0]
        return next((n for n in sources if PurePosixPath(n).name == "Main.java"), None)
    if language.name == "cpp":
        # Top-level files first: the main file is placed at the top of the build folder.
        ordered = sorted(sources, key=lambda n: (n.count("/"), n))
        return next((n for n in ordered if _CPP_MAIN.search(files[n].read_bytes())), None)
    if "__main__.py" in files:
        return "__main__.py"
    top = [n for n in sources if "/" not in n]
    if len(top) == 1:
        return top[0]
    return "main.py" if "main.py" in files else None


def submission_sources(
    package: ProblemPackage, submission: PackageSubmission
) -> tuple[str, dict[str, bytes]]:
    """A found submission as the judge takes it (`Judge.judge(..., code, files=files)`):
    the main file's code and the other files by relative path, the package's constants
    substituted in all of them (2025-09 "Constants": example submissions)."""
    path = submission.path
    if path.is_file():
        code = package.substitute(path.read_bytes())
        return code.decode("utf-8", errors="surrogateescape"), {}
    root = package.root.resolve()
    files: dict[str, bytes] = {}
    for item in sorted(path.rglob("*")):
        rel = item.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or not item.is_file():
            continue
        if not item.resolve().is_relative_to(root):
            continue  # the loader refused such links; never read outside the package
        files[rel.as_posix()] = package.substitute(item.read_bytes())
    main = submission.entrypoint or ""
    code = files.pop(main, b"")
    return code.decode("utf-8", errors="surrogateescape"), files


def folder_sources(
    folder: Path, language: Language | None = None, entrypoint: str | None = None
) -> tuple[Language, str, dict[str, bytes]]:
    """A submission folder outside any package (`codebattle judge run pkg folder/`): its
    language (given, else its extensions'), main file's code and other files, as the
    package's example submissions are read. Raises ValueError saying what is missing."""
    paths = {
        item.relative_to(folder).as_posix(): item
        for item in sorted(folder.rglob("*"))
        if item.is_file() and not any(p.startswith(".") for p in item.relative_to(folder).parts)
    }
    if language is None:
        found = languages_of(paths)
        if len(found) != 1:
            what = ", ".join(lang.name for lang in found) or "none we run"
            raise ValueError(f"{folder}: cannot tell the language ({what}); pass --lang")
        language = found[0]
    main = entrypoint_file(language, paths, entrypoint)
    if main is None:
        wanted = entrypoint or default_entrypoint_rule(language)
        raise ValueError(f"{folder}: no entrypoint ({wanted})")
    files = {rel: path.read_bytes() for rel, path in paths.items()}
    code = files.pop(main).decode("utf-8", errors="surrogateescape")
    return language, code, files
