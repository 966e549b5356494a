"""The languages a problem version offers and the starter code shown in the editor for each:
the package's own (`templates/<Language.package_template>`, e.g. `templates/solution.py`)
when it brings one, else the language's default (`Language.template`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from codebattle.judge import languages
from codebattle.problems.models import ProblemVersion

MAX_TEMPLATE_BYTES = 64 * 1024


def offered(allowed: Iterable[str] | None) -> list[str]:
    """The judge's languages a problem accepts, in the registry's order (problem.yaml
    `languages`; None: every one). An id the judge no longer knows is left out."""
    if allowed is None:
        return list(languages.LANGUAGES)
    wanted = set(allowed)
    return [name for name in languages.LANGUAGES if name in wanted]


def templates_for(root: Path, allowed: Iterable[str] | None = None) -> dict[str, str]:
    """At import: the starter code of each language the package accepts."""
    templates: dict[str, str] = {}
    for name in offered(allowed):
        language = languages.LANGUAGES[name]
        templates[name] = language.template
        if not language.package_template:
            continue
        path = root / "templates" / language.package_template
        if path.is_file() and path.stat().st_size < MAX_TEMPLATE_BYTES:
            templates[name] = path.read_text(encoding="utf-8", errors="replace")
    return templates


def templates_of(version: ProblemVersion) -> dict[str, str]:
    """What the editors offer for a stored version: its templates, and for a language it has
    none of (one added to the judge after the version was imported, as PyPy was) what an
    import would store today: the package's file that language reads (`solution.py`, kept
    as Python's), else the language's default. Every language in the menu has starter code."""
    stored = version.templates or {}
    return {
        name: stored.get(name) or _stand_in(name, stored) for name in offered(version.languages)
    }


def _stand_in(name: str, stored: dict[str, str]) -> str:
    language = languages.LANGUAGES[name]
    for other, code in stored.items():
        known = languages.LANGUAGES.get(other)
        if known is None or not language.package_template:
            continue
        # The package's own file that this language reads too (not the other's default).
        if known.package_template == language.package_template and code != known.template:
            return code
    return language.template


def choices_of(version: ProblemVersion) -> list[tuple[str, str]]:
    """(name, title) of each language a version accepts, for the editors' language menus."""
    return [(name, languages.LANGUAGES[name].title) for name in offered(version.languages)]
