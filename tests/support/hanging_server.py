"""A TCP server on loopback that accepts connections and never answers: a bucket (or any
HTTP service) that hangs rather than refuses. Each connection is held open until `stop`,
which closes them all, so a client blocked on one fails at once instead of at its timeout.

    with HangingServer() as server:
        ...  # http://127.0.0.1:{server.port}; server.accepted counts the connections
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self


class HangingServer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="hanging-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self._held)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # the listener was closed: stop
                return
            with self._lock:
                self._held.append(conn)  # read nothing, answer nothing

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (Linux)
        self._listener.close()
        with self._lock:
            for conn in self._held:
                conn.close()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self._thread.join(5)
