"""One suite for both blob stores (storage.py): the local folder and an S3 bucket on a real
`moto_server` on loopback (tests/support/s3_server.py). What one does, the other does."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from codebattle.config import ConfigError, load_settings
from codebattle.db import outage
from codebattle.integrations.s3 import S3Bucket, S3Error
from codebattle.storage import (
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    content_key,
    open_store,
    store_environment,
)
from tests.support.s3_server import S3Server, s3_server, s3_settings  # noqa: F401
from tests.support.servers import free_port

PART = 5 * 1024 * 1024  # the smallest multipart threshold S3 (and S3_MULTIPART_BYTES) allows


def bucket_of(settings: dict[str, str], multipart_bytes: int = PART) -> S3Bucket:
    return S3Bucket(
        endpoint=settings["S3_ENDPOINT"], access_key_id=settings["S3_ACCESS_KEY_ID"],
        secret_access_key=settings["S3_SECRET_ACCESS_KEY"], bucket=settings["S3_BUCKET"],
        region=settings["S3_REGION"], multipart_bytes=multipart_bytes,
    )  # fmt: skip


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    settings: dict[str, str] = request.getfixturevalue("s3_settings")
    return S3BlobStore(bucket_of(settings))


def test_round_trip(store: BlobStore) -> None:
    data = b"print(input())\n"
    key = content_key("code", data)
    assert not store.exists(key)
    store.put(key, data)
    assert store.exists(key)
    assert store.get(key) == data


def test_a_missing_key_is_a_key_error(store: BlobStore) -> None:
    with pytest.raises(KeyError):
        store.get("code/00/missing")
    assert not store.exists("code/00/missing")


def test_a_second_put_of_a_key_changes_nothing(store: BlobStore) -> None:
    # Keys are content-addressed: the object there already holds these bytes, so a put
    # of an existing key is a no-op (other bytes under it would show a second write).
    assert store.put("code/ab/abc", b"first")
    assert not store.put("code/ab/abc", b"second")  # said so: nothing written
    assert store.get("code/ab/abc") == b"first"


@pytest.mark.parametrize(
    "key", ["", "code", "Code/x", "/code/x", "code/../x", "code/a b", "code//x", "code/x/.."]
)
def test_a_bad_key_is_refused_before_any_io(store: BlobStore, key: str) -> None:
    for call in (lambda: store.put(key, b"x"), lambda: store.get(key), lambda: store.exists(key)):
        with pytest.raises(ValueError, match="bad blob key"):
            call()


def test_a_large_package_goes_in_parts(store: BlobStore) -> None:
    data = os.urandom(PART + 1024 * 1024)  # above S3_MULTIPART_BYTES: two parts
    key = content_key("packages", data, ".tar.gz")
    store.put(key, data)
    assert store.get(key) == data
    if isinstance(store, S3BlobStore):
        # A multipart upload's ETag is the parts' digest followed by -<number of parts>.
        head = store.bucket.head(key)
        assert head is not None and head.etag.endswith("-2") and head.size == len(data)
        small = content_key("code", b"small")
        store.put(small, b"small")
        head = store.bucket.head(small)
        assert head is not None and "-" not in head.etag and head.size == len(b"small")


def test_concurrent_puts_of_the_same_and_of_different_keys(store: BlobStore) -> None:
    blobs = [f"program {i}\n".encode() for i in range(16)]
    shared = b"the same code, submitted at once by many"

    def put(i: int) -> None:
        store.put(content_key("code", shared), shared)
        store.put(content_key("code", blobs[i]), blobs[i])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(len(blobs))))
    assert store.get(content_key("code", shared)) == shared
    assert all(store.get(content_key("code", data)) == data for data in blobs)


async def test_the_awaitable_methods(store: BlobStore) -> None:
    blobs = [f"async {i}\n".encode() for i in range(12)]
    await asyncio.gather(*(store.aput(content_key("code", data), data) for data in blobs))
    found = await asyncio.gather(*(store.aget(content_key("code", data)) for data in blobs))
    assert found == blobs
    assert await store.aexists(content_key("code", blobs[0]))
    assert not await store.aexists("code/00/missing")
    with pytest.raises(KeyError):
        await store.aget("code/00/missing")
    with pytest.raises(ValueError):
        await store.aput("../x", b"x")


async def test_s3_calls_never_run_on_the_event_loop(s3_settings: dict[str, str]) -> None:  # noqa: F811
    store = S3BlobStore(bucket_of(s3_settings))
    threads: list[threading.Thread] = []

    def recording(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            threads.append(threading.current_thread())
            return method(*args)

        return call

    for name in ("head", "get", "put"):
        setattr(store.bucket, name, recording(getattr(store.bucket, name)))
    await store.aput("code/ab/loop", b"x")
    assert await store.aget("code/ab/loop") == b"x"
    assert await store.aexists("code/ab/loop")
    assert len(threads) == 4  # HEAD and PUT, GET, HEAD
    assert threading.current_thread() not in threads


def test_check_passes_on_a_store_that_works(store: BlobStore) -> None:
    store.check()


def test_a_missing_bucket_is_one_clear_error_without_credentials(s3_server: S3Server) -> None:  # noqa: F811
    settings = s3_server.settings("cb-no-such-bucket")
    store = S3BlobStore(bucket_of(settings))
    for call in (store.check, lambda: store.get("code/ab/x"), lambda: store.put("code/ab/x", b"")):
        with pytest.raises(S3Error) as caught:
            call()
        message = str(caught.value)
        assert "cb-no-such-bucket" in message and "failed" in message
        assert settings["S3_SECRET_ACCESS_KEY"] not in message
        assert settings["S3_ACCESS_KEY_ID"] not in message
        assert not caught.value.transient  # a set-up error, not an outage
    assert settings["S3_SECRET_ACCESS_KEY"] not in repr(store.bucket)


def test_an_unreachable_endpoint_is_a_transient_s3_error(s3_settings: dict[str, str]) -> None:  # noqa: F811
    settings = {**s3_settings, "S3_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    store = S3BlobStore(bucket_of(settings))
    with pytest.raises(S3Error) as caught:
        store.get("code/ab/x")
    assert caught.value.transient
    assert "GET" in str(caught.value) and settings["S3_SECRET_ACCESS_KEY"] not in str(caught.value)
    # The app answers it as an outage (503, Retry-After), logged as the blob store's.
    assert outage.is_unavailable(caught.value) and outage.service_of(caught.value) == "blobs"
    refused = S3Error("S3 GET on bucket 'b' at http://x failed: AccessDenied", transient=False)
    assert not outage.is_unavailable(refused)  # a set-up error: a 500, with its log line


def test_the_settings_choose_the_store(tmp_path: Path, s3_settings: dict[str, str]) -> None:  # noqa: F811
    local = load_settings(_env_file=None, DATA_DIR=tmp_path)
    assert isinstance(open_store(local), LocalBlobStore)
    remote = load_settings(_env_file=None, DATA_DIR=tmp_path, **s3_settings)
    store = open_store(remote)
    assert isinstance(store, S3BlobStore)
    store.put("code/ab/chosen", b"in the bucket")
    assert not (tmp_path / "blobs" / "code").exists()
    # What a judge process of the local queue is given opens the same bucket.
    env = store_environment(remote)
    assert set(env) == {*s3_settings, "S3_MULTIPART_BYTES"}
    again = open_store(load_settings(_env_file=None, **env))
    assert again.get("code/ab/chosen") == b"in the bucket"
    assert store_environment(local) == {"DATA_DIR": str(tmp_path.resolve())}


@pytest.mark.parametrize("missing", ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"])
def test_a_bucket_without_its_endpoint_or_keys_is_a_config_error(missing: str) -> None:
    values = {
        "S3_BUCKET": "b", "S3_ENDPOINT": "https://example.r2.cloudflarestorage.com",
        "S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret",
    }  # fmt: skip
    del values[missing]
    with pytest.raises(ConfigError, match=f"^{missing}: must be set when S3_BUCKET is set$"):
        load_settings(_env_file=None, **values)
    with pytest.raises(ConfigError, match="^S3_ENDPOINT: must start with http"):
        load_settings(_env_file=None, **{**values, missing: "x", "S3_ENDPOINT": "r2.example"})
