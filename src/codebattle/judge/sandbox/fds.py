"""The descriptor ledger of one run: every descriptor it opens is closed exactly once."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class Fds:
    """File descriptors one run opened; each is closed exactly once, errors or not."""

    def __init__(self) -> None:
        self._open: set[int] = set()

    def open(self, path: str | Path, flags: int) -> int:
        fd = os.open(path, flags)
        self._open.add(fd)
        return fd

    def release(self, fd: int) -> None:
        """The caller takes over closing `fd`."""
        self._open.discard(fd)

    def adopt(self, fd: int) -> int:
        self._open.add(fd)
        return fd

    def pipe(self) -> tuple[int, int]:
        r, w = os.pipe()
        self._open.update((r, w))
        return r, w

    def close(self, *fds: int | None) -> None:
        for fd in fds:
            if fd is not None and fd in self._open:
                self._open.discard(fd)
                with contextlib.suppress(OSError):
                    os.close(fd)

    def close_all(self) -> None:
        self.close(*list(self._open))


def drain(fd: int | None, limit: int = 4096) -> bytes:
    """What a pipe already holds, without blocking."""
    if fd is None:
        return b""
    try:
        os.set_blocking(fd, False)
        return os.read(fd, limit)
    except OSError:
        return b""
