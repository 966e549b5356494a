"""The languages the judge knows: every module here that defines LANGUAGE.

Adding a language means adding one module with a `LANGUAGE = Language(...)`.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from codebattle.judge.languages.base import Language


class UnknownLanguage(LookupError):
    pass


def _discover() -> dict[str, Language]:
    found: dict[str, Language] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        language = getattr(module, "LANGUAGE", None)
        if isinstance(language, Language):
            found[language.name] = language
    return found


LANGUAGES: dict[str, Language] = _discover()


def get(name: str) -> Language:
    try:
        return LANGUAGES[name]
    except KeyError:
        known = ", ".join(sorted(LANGUAGES))
        raise UnknownLanguage(f"unknown language {name!r} (known: {known})") from None


def for_path(path: Path) -> Language:
    suffix = path.suffix.lower()
    for language in LANGUAGES.values():
        if suffix in language.extensions:
            return language
    raise UnknownLanguage(
        f"cannot tell the language of {path.name}; pass --lang ({', '.join(sorted(LANGUAGES))})"
    )


def choices() -> list[tuple[str, str]]:
    """(name, title) of every language, for the editors' language menus."""
    return [(language.name, language.title) for language in LANGUAGES.values()]
