"""Statement assets: the images a statement shows and PDF statements, stored at import and
served at /problems/<slug>/assets/<name>.

Only files directly in the statement folder, with a plain name and a known extension, are
assets; the version records name -> blob key, and the route serves only those names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from codebattle.storage import BlobStore, content_key

MAX_ASSET_BYTES = 8 * 1024 * 1024
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}
CONTENT_TYPES = {**IMAGE_TYPES, ".pdf": "application/pdf"}
# LaTeX may name an image without its extension: the ones a browser shows, in this order.
_IMPLIED_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".svg")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
PDF_STATEMENT = re.compile(r"problem(?:\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?))?\.pdf")

# ![alt](target) and ![alt](<target> "title"): group 2 is the target.
_IMAGE_LINK = re.compile(r"(!\[(?:[^\]\\]|\\.)*\]\(\s*<?)([^)\s>]+)")


def content_type(name: str) -> str | None:
    return CONTENT_TYPES.get(Path(name).suffix.lower())


def statement_files(folders: Iterable[Path]) -> tuple[dict[str, Path], list[str]]:
    """(name -> file, warnings): the images and PDF statements of the statement folders."""
    found: dict[str, Path] = {}
    warnings: list[str] = []
    for folder in folders:
        for entry in sorted(folder.iterdir()):
            suffix = entry.suffix.lower()
            is_pdf_statement = PDF_STATEMENT.fullmatch(entry.name) is not None
            if suffix not in IMAGE_TYPES and not is_pdf_statement:
                continue
            if not entry.is_file() or entry.is_symlink():
                continue
            where = f"{folder.name}/{entry.name}"
            if not NAME.fullmatch(entry.name):
                warnings.append(f"{where}: not served: use letters, digits, '.', '_', '-'")
            elif entry.stat().st_size > MAX_ASSET_BYTES:
                warnings.append(f"{where}: not served: larger than 8 MiB")
            elif entry.name not in found:
                found[entry.name] = entry
    return found, warnings


def store(blobs: BlobStore, files: dict[str, Path]) -> dict[str, str]:
    """Each file into the blob store (content-keyed, so unchanged images are stored once);
    name -> key."""
    keys: dict[str, str] = {}
    for name, path in sorted(files.items()):
        data = path.read_bytes()
        key = content_key("assets", data, Path(name).suffix.lower())
        blobs.put(key, data)
        keys[name] = key
    return keys


def resolve(target: str, names: Iterable[str]) -> str | None:
    """The asset a statement's image target means: the same name (a leading ./ allowed),
    or, as LaTeX allows, the name without its extension."""
    known = set(names)
    plain = target.removeprefix("./")
    if plain in known:
        return plain
    for extension in _IMPLIED_EXTENSIONS:
        if plain + extension in known:
            return plain + extension
    return None


def link_images(markdown: str, names: Iterable[str], base: str) -> tuple[str, list[str]]:
    """The Markdown with each image that names a statement file pointing at `base` + name,
    and the targets that name nothing we serve."""
    known = set(names)
    missing: list[str] = []

    def relink(match: re.Match[str]) -> str:
        target = match.group(2)
        if "://" in target or target.startswith(("/", "data:")):
            return match.group(0)
        name = resolve(target, known)
        if name is None:
            missing.append(target)
            return match.group(0)
        return match.group(1) + base + name

    return _IMAGE_LINK.sub(relink, markdown), missing
