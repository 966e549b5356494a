"""Reading a package folder safely: paths relative to its root for messages, warnings,
UTF-8 text and YAML that fail as PackageError, symlinks kept inside the package. The loader
(judge/loader.py) and its parts (validator_sources.py, submission_files.py) build on it."""

from __future__ import annotations

import os
import reprlib
from pathlib import Path
from typing import Any

import yaml

from codebattle.judge.package import PackageError

# YAML anchors may repeat a value; past this many times the file's own size (plus a little)
# the repetition is an "alias bomb" that would blow up once the value is walked or printed.
_YAML_EXPANSION_FACTOR = 10
_YAML_EXPANSION_SLACK = 100_000

_shown = reprlib.Repr()
_shown.maxstring = _shown.maxother = 40
_shown.maxlist = _shown.maxdict = _shown.maxset = _shown.maxtuple = 4
_shown.maxlevel = 3


def shown(value: Any) -> str:
    """`value` for a message: its repr, shortened (a YAML value may be huge)."""
    text = _shown.repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def parse_yaml(text: str, where: str) -> Any:
    """`text` as YAML (safe types only). Every failure is a PackageError naming `where`:
    syntax, bad values (a date like 2020-13-45), nesting too deep, alias bombs."""
    try:
        data = yaml.safe_load(text)
        size = _expanded_size(data, {}, set())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "syntax error"
        raise PackageError(where, f"invalid YAML{at}: {what}") from exc
    except yaml.YAMLError as exc:
        raise PackageError(where, f"invalid YAML: {str(exc)[:200]}") from exc
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2020-13-45
        raise PackageError(where, f"invalid YAML value: {str(exc)[:200]}") from exc
    except RecursionError as exc:
        raise PackageError(where, "invalid YAML: nested too deeply") from exc
    if size is None:
        raise PackageError(where, "invalid YAML: an alias refers to itself")
    if size > _YAML_EXPANSION_FACTOR * len(text) + _YAML_EXPANSION_SLACK:
        raise PackageError(where, "invalid YAML: aliases repeat too much (an alias bomb?)")
    return data


def _expanded_size(value: Any, sizes: dict[int, int], open_: set[int]) -> int | None:
    """The size `value` would have written out with every alias expanded (characters of
    strings, one per other value), in time linear in the distinct values; None for a value
    that contains itself."""
    if isinstance(value, str):
        return 1 + len(value)
    if not isinstance(value, dict | list):
        return 1
    key = id(value)
    if key in sizes:
        return sizes[key]
    if key in open_:
        return None
    open_.add(key)
    children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    total = 1
    for child in children:
        size = _expanded_size(child, sizes, open_)
        if size is None:
            return None
        total += size
    open_.discard(key)
    sizes[key] = total
    return total


class PackageReader:
    def __init__(self, path: Path) -> None:
        self.given = path
        try:
            self.root = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop: load() then says "not a folder"
            self.root = path.absolute()
        self.warnings: list[str] = []

    # --- helpers -------------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        """`path` relative to the package root, for messages."""
        try:
            return path.relative_to(self.root).as_posix() or "."
        except ValueError:
            try:
                return path.relative_to(self.given).as_posix() or "."
            except ValueError:
                return str(path)

    def warn(self, path: Path, message: str) -> None:
        self.warnings.append(f"{self.rel(path)}: {message}")

    def read_text(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PackageError(self.rel(path), f"not valid UTF-8 (byte {exc.start})") from exc
        except OSError as exc:
            raise PackageError(self.rel(path), f"cannot read: {exc.strerror or exc}") from exc

    def read_yaml(self, path: Path, text: str | None = None) -> Any:
        """`path` parsed as YAML (`text`: its contents, already read and perhaps changed)."""
        return parse_yaml(self.read_text(path) if text is None else text, self.rel(path))

    def read_mapping(self, path: Path) -> dict[str, Any]:
        raw = self.read_yaml(path)
        if raw is None:  # an empty file
            return {}
        if not isinstance(raw, dict):
            raise PackageError(self.rel(path), "must be a mapping of keys to values")
        return {str(key): value for key, value in raw.items()}

    def inside_root(self, path: Path) -> Path:
        """Resolve `path` (following symlinks) and insist that it stays inside the package."""
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise PackageError(self.rel(path), "broken or looping symlink") from exc
        if not target.is_relative_to(self.root):
            raise PackageError(self.rel(path), f"symlink points outside the package: {target}")
        return target

    def entries(self, folder: Path) -> list[Path]:
        """The folder's entries sorted by name, hidden files (.gitkeep, .DS_Store) left out."""
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise PackageError(self.rel(folder), f"cannot list: {exc.strerror or exc}") from exc
        return [folder / name for name in names if not name.startswith(".")]
