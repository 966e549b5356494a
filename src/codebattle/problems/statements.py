"""What an import stores of a package's statements: Markdown per language (written in
Markdown, or converted from LaTeX), and the statement's images and PDFs as assets.

Markdown stays preferred when a language has both. Image links that name a statement file
are pointed at the asset route, so the page shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from codebattle.judge.package import ProblemPackage
from codebattle.problems import assets, latex
from codebattle.storage import BlobStore

_SHOWN_SOURCE_BYTES = 64 * 1024  # a fallback shows at most this much LaTeX


@dataclass
class StatementFields:
    markdown: dict[str, str]  # language -> Markdown
    assets: dict[str, str]  # file name -> blob key
    warnings: list[str] = field(default_factory=list)


def asset_url(slug: str, name: str) -> str:
    return f"/problems/{slug}/assets/{name}"


def pdf_languages(asset_names: list[str] | dict[str, str]) -> dict[str, str]:
    """language -> name of each PDF statement among the assets (problem.pdf is English)."""
    found: dict[str, str] = {}
    for name in sorted(asset_names):
        match = assets.PDF_STATEMENT.fullmatch(name)
        if match is not None:
            found.setdefault(match.group(1) or "en", name)
    return found


def _folders(package: ProblemPackage) -> list[Path]:
    names = ("problem_statement", "statement") if package.legacy else ("statement",)
    return [package.root / name for name in names if (package.root / name).is_dir()]


def _where(package: ProblemPackage, path: Path) -> str:
    return path.relative_to(package.root).as_posix()


def build(package: ProblemPackage, blobs: BlobStore, slug: str) -> StatementFields:
    files, warnings = assets.statement_files(_folders(package))
    keys = assets.store(blobs, files)
    result = StatementFields({}, keys, warnings)
    texts = {
        lang: package.substitute(path.read_bytes()).decode("utf-8", errors="replace")
        for lang, path in sorted(package.statements.items())
    }
    tex_only = {
        lang: path for lang, path in sorted(package.tex_statements.items()) if lang not in texts
    }
    if tex_only and latex.pandoc_path() is None:
        for path in tex_only.values():
            result.warnings.append(
                f"{_where(package, path)}: not shown: pandoc is not installed on this host "
                "(scripts/system-deps.sh installs it)"
            )
        tex_only = {}
    for lang, path in tex_only.items():
        where = _where(package, path)
        tex = package.substitute(path.read_bytes()).decode("utf-8", errors="replace")
        try:
            converted, notes = latex.to_markdown(tex, lang, package.constants)
        except latex.LatexError as exc:
            result.warnings.append(f"{where}: shown as LaTeX source: {exc}")
            converted, notes = latex.source_fallback(tex[:_SHOWN_SOURCE_BYTES], lang), []
        result.warnings.extend(f"{where}: {note}" for note in notes)
        texts[lang] = converted
    for lang, text in sorted(texts.items()):
        linked, missing = assets.link_images(text, keys, asset_url(slug, ""))
        for target in missing:
            source = package.statements.get(lang) or package.tex_statements[lang]
            result.warnings.append(
                f"{_where(package, source)}: image {target!r} is not a statement file we "
                "serve (png, jpg, jpeg, gif, svg in the statement folder)"
            )
        result.markdown[lang] = linked
    return result


def convertible_now(stored: dict[str, str], package: ProblemPackage) -> bool:
    """Whether a LaTeX statement the stored version lacks (imported where pandoc was
    missing) can be converted now: then an unchanged package is imported again."""
    missing = set(package.tex_statements) - set(stored)
    return bool(missing) and latex.pandoc_path() is not None
