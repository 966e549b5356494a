"""Starter code shown in the editor for each language: the package's own
(`templates/<Language.package_template>`, e.g. `templates/solution.py`) when it brings one,
else the language's default (`Language.template`)."""

from __future__ import annotations

from pathlib import Path

from codebattle.judge import languages

MAX_TEMPLATE_BYTES = 64 * 1024


def templates_for(root: Path) -> dict[str, str]:
    templates: dict[str, str] = {}
    for name, language in languages.LANGUAGES.items():
        templates[name] = language.template
        if not language.package_template:
            continue
        path = root / "templates" / language.package_template
        if path.is_file() and path.stat().st_size < MAX_TEMPLATE_BYTES:
            templates[name] = path.read_text(encoding="utf-8", errors="replace")
    return templates
