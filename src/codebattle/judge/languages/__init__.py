"""The languages the judge knows: every module here that defines LANGUAGE.

Adding a language means adding one module with a `LANGUAGE = Language(...)` (and its
toolchain on the judge hosts). Everything else that lists languages reads this registry:
the extension tables of the package loader, the editor's starter code and language menu,
the AI opponent's prompt notes, and the "unknown language" message.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from codebattle.judge.languages.base import Language
from codebattle.judge.prebuilt import Prebuilt


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


def by_extension(suffix: str) -> Language | None:
    """The language of a source file ending in `suffix` (".cpp"), or None."""
    return next((lang for lang in LANGUAGES.values() if suffix in lang.extensions), None)


def by_package_code(code: str) -> Language | None:
    """The language a problem package means by `code` ("python3", "cpp"), or None."""
    return next((lang for lang in LANGUAGES.values() if code in lang.package_codes), None)


def for_validator(suffix: str) -> Language | None:
    """The language of a package validator source ending in `suffix`, or None."""
    return next((lang for lang in LANGUAGES.values() if suffix in lang.validator_extensions), None)


def extensions(*, validators: bool = False) -> list[str]:
    """Every source extension (or every validator extension), in registry order."""
    return [
        suffix
        for lang in LANGUAGES.values()
        for suffix in (lang.validator_extensions if validators else lang.extensions)
    ]


def names() -> str:
    """The language ids for messages: "cpp, java, python"."""
    return ", ".join(LANGUAGES)


def for_path(path: Path) -> Language:
    """The language of a source file by its extension: as written first (".C" is C++, as
    in the format's languages table), else lower-cased (".CPP", ".PY")."""
    language = by_extension(path.suffix) or by_extension(path.suffix.lower())
    if language is not None:
        return language
    raise UnknownLanguage(
        f"cannot tell the language of {path.name}; pass --lang ({', '.join(sorted(LANGUAGES))})"
    )


def choices() -> list[tuple[str, str]]:
    """(name, title) of every language, for the editors' language menus."""
    return [(language.name, language.title) for language in LANGUAGES.values()]


def prebuilt() -> list[Prebuilt]:
    """Every language's prebuilt artifacts (judge/prebuilt.py) whose toolchain is here."""
    return [a for lang in LANGUAGES.values() if lang.available() for a in lang.prebuilt]
