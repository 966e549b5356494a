"""The blob storage seam: code, problem package archives, statement assets, cached
reference timings.

Keys are relative paths such as `code/ab/abcd...`; most are content-addressed, so a put of a
key that exists is a no-op. Two implementations, chosen by `open_store(settings)`: a local
folder (the embedded default) and an S3-compatible bucket when S3_BUCKET is set.

Each store has blocking methods (put/get/exists: the judge, which reads packages in its own
threads and processes) and awaitable ones (aput/aget/aexists: the API's async code). The
local store's awaitables are the blocking calls (a local file is cheap, as before); the S3
store's run in a small executor of its own, so no S3 request ever waits on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from codebattle.config import Settings
from codebattle.integrations.s3 import S3Bucket, S3Error

__all__ = [
    "BlobStore", "Copied", "LocalBlobStore", "S3BlobStore", "S3Error", "content_key",
    "copy_folder", "open_store",
]  # fmt: skip

_KEY = re.compile(r"^[a-z]+(/[A-Za-z0-9._-]+)+$")
# The S3 store's threads for the API's awaitables: a bound on the requests in flight (each
# spends some CPU under the GIL, beside the event loop). A bucket's round trip is tens of
# ms of waiting: 8 threads serve a few hundred reads a second, far above the site's need.
S3_THREADS = 8


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...  # KeyError if missing

    def exists(self, key: str) -> bool: ...

    async def aput(self, key: str, data: bytes) -> None: ...

    async def aget(self, key: str) -> bytes: ...

    async def aexists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise (OSError, S3Error) unless the store can be used: start-up and /readyz."""


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

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
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


class S3BlobStore:
    """Blobs as objects of one bucket, under the same keys as the local folder's files
    (so `aws s3 sync DATA_DIR/blobs s3://bucket` moves a local store into one)."""

    def __init__(self, bucket: S3Bucket) -> None:
        self.bucket = bucket
        # A burst of reads queues here rather than taking the default executor's threads
        # from everything else (the client has connections to spare for blocking callers).
        self._executor = ThreadPoolExecutor(S3_THREADS, thread_name_prefix="s3-blobs")

    def put(self, key: str, data: bytes) -> None:
        # Content-addressed: an object that exists holds these bytes already. Two racing
        # puts of a new key both write it, with the same bytes.
        if self.bucket.head(checked_key(key)):
            return
        self.bucket.put(key, data)

    def get(self, key: str) -> bytes:
        return self.bucket.get(checked_key(key))

    def exists(self, key: str) -> bool:
        return self.bucket.head(checked_key(key))

    async def aput(self, key: str, data: bytes) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.put, key, data)

    async def aget(self, key: str) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.get, key)

    async def aexists(self, key: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.exists, key)

    def check(self) -> None:
        self.bucket.check()


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
        if store.exists(key):
            with lock:
                result.present += 1
            return
        store.put(key, data)
        with lock:
            result.uploaded += 1

    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(copy, files))  # list(): an S3Error is raised here, stopping the copy
    result.refused.sort()
    return result
