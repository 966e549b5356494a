"""Reading a package folder safely: paths relative to its root for messages, warnings,
UTF-8 text and YAML that fail as PackageError, symlinks kept inside the package. The loader
(judge/loader.py) and its parts (validator_sources.py, submission_files.py) build on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from codebattle.judge.package import PackageError


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

    def read_yaml(self, path: Path) -> Any:
        text = self.read_text(path)
        try:
            return yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            what = exc.problem or exc.context or "syntax error"
            raise PackageError(self.rel(path), f"invalid YAML{where}: {what}") from exc
        except yaml.YAMLError as exc:
            raise PackageError(self.rel(path), f"invalid YAML: {exc}") from exc
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2020-13-45
            raise PackageError(self.rel(path), f"invalid YAML value: {exc}") from exc
        except RecursionError as exc:
            raise PackageError(self.rel(path), "invalid YAML: nested too deeply") from exc

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
