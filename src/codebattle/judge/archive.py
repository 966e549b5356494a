"""Problem packages as archives in blob storage: packed once on import, unpacked by workers."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import tempfile
from pathlib import Path

MAX_ARCHIVE_BYTES = 512 << 20


def pack(root: Path) -> bytes:
    """A deterministic tar.gz of the package folder (same content, same bytes), with
    symbolic links inside the package resolved to the files they name."""
    root = root.resolve()
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            target = path.resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"{relative}: links outside the package")
            if target.is_dir():
                continue
            info = tarfile.TarInfo(str(relative))
            data = target.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if target.stat().st_mode & 0o100 else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> None:
    """Unpack an archive made by `pack` into `dest` (created; must not exist). The `data`
    filter refuses absolute paths, links and anything outside `dest`."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ValueError("package archive too large")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".unpack-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")
        staging.chmod(0o755)  # sandboxed validators (as nobody) read the test data
        try:
            staging.rename(dest)
        except OSError:
            if not dest.is_dir():
                raise
            shutil.rmtree(staging)  # another worker unpacked the same archive first
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
