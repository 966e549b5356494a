"""The blob storage seam: code, problem package archives, statement assets, cached
reference timings.

Keys are relative paths such as `code/ab/abcd...`; most are content-addressed, so a put of a
key that exists is a no-op. Two implementations, chosen by `open_store(settings)`: a local
folder (the embedded default) and an S3-compatible bucket when S3_BUCKET is set.

Each store has blocking methods (put/get/exists: the judge, which reads packages in its own
threads and processes) and awaitable ones (aput/aget/aexists: the API's async code). The
local store's awaitables are the blocking calls (a local file is cheap, as before); the S3
store's run in a small executor of its own, so no S3 request ever waits on the event loop
nor takes a thread of the default executor (which also resolves names for the database and
Redis), and each awaitable gives up after a bound (a transient S3Error: the client gets 503).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from codebattle.config import Settings
from codebattle.integrations.s3 import PROBE, S3Bucket, S3Error

__all__ = [
    "BlobStore", "Copied", "LocalBlobStore", "S3BlobStore", "S3Error", "content_key",
    "copy_folder", "open_store",
]  # fmt: skip

_KEY = re.compile(r"^[a-z]+(/[A-Za-z0-9._-]+)+$")
# The S3 store's threads for the API's awaitables: a bound on the requests in flight (each
# spends some CPU under the GIL, beside the event loop). A bucket's round trip is tens of
# ms of waiting: 8 threads serve a few hundred reads a second, far above the site's need.
S3_THREADS = 8
# The API's whole wait for one call, its turn for a thread included: a bucket that hangs
# gives the client a 503 after this, not after the client's tries (minutes). A put waits
# longer by its size at this rate (a problem package of tens of MB).
S3_CALL_SECONDS = 10.0
S3_PUT_BYTES_PER_SECOND = 1024 * 1024
# /readyz asks often (every instance, every few seconds): one check at a time, its result
# kept this long.
S3_CHECK_TTL = 5.0
T = TypeVar("T")


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> bool:
        """Store the blob; False if the key was there already (the same bytes: unchanged)."""

    def get(self, key: str) -> bytes: ...  # KeyError if missing

    def exists(self, key: str) -> bool: ...

    async def aput(self, key: str, data: bytes) -> None: ...

    async def aget(self, key: str) -> bytes: ...

    async def aexists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise (OSError, S3Error) unless the store can be used (start-up)."""

    async def acheck(self) -> None:
        """`check` for /readyz: quick, at most one at a time, its result kept a moment."""

    def close(self) -> None:
        """Release threads and connections (the app's shutdown)."""


def content_key(prefix: str, data: bytes, suffix: str = "") -> str:
    """A content-addressed key: the same bytes are stored once."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix}/{digest[:2]}/{digest}{suffix}"


def checked_key(key: str) -> str:
    """The key, or ValueError: a few path segments of safe characters, no `..`."""
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"bad blob key {key!r}")
    return key


def open_store(settings: Settings) -> BlobStore:
    """The store the settings name: the bucket when S3_BUCKET is set, else DATA_DIR/blobs.
    The API, the local judge processes and `codebattle worker` all open it this way."""
    if settings.S3_BUCKET:
        return S3BlobStore(S3Bucket.from_settings(settings))
    return LocalBlobStore(settings.DATA_DIR / "blobs")


# What a judge process started by the API (judge/queue.py LocalQueue) needs in its otherwise
# empty environment to open the same store.
_STORE_SETTINGS = ("S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_BUCKET", "S3_REGION")


def store_environment(settings: Settings) -> dict[str, str]:
    if not settings.S3_BUCKET:
        return {"DATA_DIR": str(settings.DATA_DIR.resolve())}
    env = {name: str(getattr(settings, name)) for name in _STORE_SETTINGS}
    assert settings.S3_SECRET_ACCESS_KEY is not None  # load_settings checked it
    env["S3_SECRET_ACCESS_KEY"] = settings.S3_SECRET_ACCESS_KEY.get_secret_value()
    env["S3_MULTIPART_BYTES"] = str(settings.S3_MULTIPART_BYTES)
    return env


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a blob.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    async def aput(self, key: str, data: bytes) -> None:
        self.put(key, data)

    async def aget(self, key: str) -> bytes:
        return self.get(key)

    async def aexists(self, key: str) -> bool:
        return self.exists(key)

    def check(self) -> None:
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise OSError(f"blob folder {self.root} is not writable")

    async def acheck(self) -> None:
        self.check()

    def close(self) -> None:
        pass  # nothing held


class S3BlobStore:
    """Blobs as objects of one bucket, under the same keys as the local folder's files
    (so `aws s3 sync DATA_DIR/blobs s3://bucket` moves a local store into one)."""

    def __init__(self, bucket: S3Bucket, call_seconds: float | None = None) -> None:
        self.bucket = bucket
        self.call_seconds = S3_CALL_SECONDS if call_seconds is None else call_seconds
        # A burst of reads queues here rather than taking the default executor's threads
        # from everything else (the client has connections to spare for blocking callers).
        self._executor = ThreadPoolExecutor(S3_THREADS, thread_name_prefix="s3-blobs")
        self._probe: S3Bucket | None = None  # /readyz's quick client, made at its first use
        self._lock = threading.Lock()
        self._check: Future[None] | None = None
        self._checked_at = float("-inf")

    def put(self, key: str, data: bytes) -> bool:
        # Content-addressed: an object that exists holds these bytes already. Two racing
        # puts of a new key both write it, with the same bytes.
        if self.bucket.head(checked_key(key)) is not None:
            return False
        self.bucket.put(key, data)
        return True

    def get(self, key: str) -> bytes:
        return self.bucket.get(checked_key(key))

    def exists(self, key: str) -> bool:
        return self.bucket.head(checked_key(key)) is not None

    async def _call(self, operation: str, seconds: float, call: Callable[[], T]) -> T:
        """The call on this store's threads, given up after `seconds` (the thread finishes
        its try on its own: the client's timeouts bound it)."""
        loop = asyncio.get_running_loop()
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await loop.run_in_executor(self._executor, call)
        except TimeoutError:
            if not scope.expired():
                raise
        raise S3Error(
            f"S3 {operation} on bucket {self.bucket.bucket!r} at {self.bucket.endpoint} failed:"
            f" no answer within {seconds:.1f} s",
            transient=True,
        )

    async def aput(self, key: str, data: bytes) -> None:
        seconds = self.call_seconds + len(data) / S3_PUT_BYTES_PER_SECOND
        await self._call("PUT", seconds, lambda: self.put(key, data))

    async def aget(self, key: str) -> bytes:
        return await self._call("GET", self.call_seconds, lambda: self.get(key))

    async def aexists(self, key: str) -> bool:
        return await self._call("HEAD", self.call_seconds, lambda: self.exists(key))

    def check(self) -> None:
        self.bucket.check()

    async def acheck(self) -> None:
        with self._lock:
            stale = time.monotonic() - self._checked_at >= S3_CHECK_TTL
            if self._check is None or (self._check.done() and stale):
                self._check = self._executor.submit(self._quick_check)
            check = self._check
        # Shielded: a probe that stops waiting leaves the check to finish for the next one.
        await asyncio.shield(asyncio.wrap_future(check))

    def _quick_check(self) -> None:
        try:
            if self._probe is None:
                self._probe = self.bucket.with_timeouts(PROBE)
            self._probe.check()
        finally:
            self._checked_at = time.monotonic()

    def close(self) -> None:
        # Calls queued are dropped; one running ends at its client's timeout, in its thread.
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.bucket.close()
        if self._probe is not None:
            self._probe.close()


@dataclass
class Copied:
    uploaded: int = 0
    present: int = 0  # already in the store: content-addressed, so the same bytes
    refused: list[str] = field(default_factory=list)  # "path: why", not copied


_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def copy_folder(root: Path, store: BlobStore, threads: int = 8) -> Copied:
    """Every blob of a local blob folder into `store` under the same key (`codebattle blobs
    upload-local`). A file whose name is not a key, or whose content does not match the
    digest its name carries, is refused (listed), never copied; a writer's temporary file
    (`.tmp-*`) is left alone. Safe to run again: what is there already is not sent."""
    result = Copied()
    lock = threading.Lock()

    def copy(path: Path) -> None:
        key = path.relative_to(root).as_posix()
        try:
            checked_key(key)
        except ValueError:
            with lock:
                result.refused.append(f"{key}: not a blob key")
            return
        data = path.read_bytes()
        stem = path.name.split(".", 1)[0]
        if _DIGEST.match(stem) and hashlib.sha256(data).hexdigest() != stem:
            with lock:
                result.refused.append(f"{key}: content does not match its name (damaged)")
            return
        written = store.put(key, data)  # one HEAD then the PUT: no second look first
        with lock:
            if written:
                result.uploaded += 1
            else:
                result.present += 1

    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(copy, files))  # list(): an S3Error is raised here, stopping the copy
    result.refused.sort()
    return result
