"""`codebattle blobs upload-local`: a local blob folder moved into the bucket (a real
`moto_server`), keys kept, damaged files and non-blobs refused, safe to run again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codebattle.cli import app
from codebattle.config import load_settings
from codebattle.storage import LocalBlobStore, S3BlobStore, content_key, copy_folder, open_store
from tests.support.s3_server import s3_server, s3_settings  # noqa: F401


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    for name in ("S3_BUCKET", "S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_a_local_folder_goes_into_the_bucket_once(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_settings: dict[str, str],  # noqa: F811
) -> None:
    local = LocalBlobStore(env / "var" / "blobs")
    blobs = {content_key("code", f"print({i})".encode()): f"print({i})".encode() for i in range(5)}
    blobs[content_key("packages", b"archive", ".tar.gz")] = b"archive"
    blobs["reviews/reference/3/python.json"] = b'{"1.in": 0.1}'
    for key, data in blobs.items():
        local.put(key, data)
    damaged = content_key("code", b"original")
    (local.root / damaged).parent.mkdir(parents=True, exist_ok=True)
    (local.root / damaged).write_bytes(b"bit rot")
    (local.root / "code" / ".tmp-half-written").write_bytes(b"half")
    (local.root / "notes.txt").write_bytes(b"not a blob")
    runner = CliRunner()

    refused = runner.invoke(app, ["blobs", "upload-local"])
    assert refused.exit_code == 2 and "S3_BUCKET is not set" in refused.output

    for name, value in s3_settings.items():
        monkeypatch.setenv(name, value)
    first = runner.invoke(app, ["blobs", "upload-local"])
    assert first.exit_code == 1, first.output  # the refused files are for an operator to see
    assert f"refused: {damaged}: content does not match its name (damaged)" in first.output
    assert "refused: notes.txt: not a blob key" in first.output
    assert "7 uploaded, 0 already there, 2 refused" in first.output
    bucket = open_store(load_settings(_env_file=None, **s3_settings))
    assert all(bucket.get(key) == data for key, data in blobs.items())
    assert not bucket.exists(damaged)

    again = runner.invoke(app, ["blobs", "upload-local"])
    assert "0 uploaded, 7 already there, 2 refused" in again.output


def test_an_unreachable_bucket_stops_with_one_line(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_settings: dict[str, str],  # noqa: F811
) -> None:
    LocalBlobStore(env / "var" / "blobs").put("code/ab/x", b"x")
    for name, value in {**s3_settings, "S3_BUCKET": "cb-not-created"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["blobs", "upload-local"])
    assert result.exit_code == 2
    assert "blob storage: S3 HEAD bucket on bucket 'cb-not-created'" in result.output
    assert s3_settings["S3_SECRET_ACCESS_KEY"] not in result.output
    assert "Traceback" not in result.output


def test_each_file_is_looked_up_once_then_sent(
    tmp_path: Path,
    s3_settings: dict[str, str],  # noqa: F811
) -> None:
    """One HEAD per file, and a PUT for those not there: no second look before the PUT."""
    local = LocalBlobStore(tmp_path / "blobs")
    for i in range(4):
        local.put(content_key("code", f"print({i})".encode()), f"print({i})".encode())
    store = open_store(load_settings(_env_file=None, **s3_settings))
    assert isinstance(store, S3BlobStore)
    calls: list[str] = []

    def counted(name: str) -> Callable[..., Any]:
        real = getattr(store.bucket, name)

        def call(*args: Any) -> Any:
            calls.append(name)
            return real(*args)

        return call

    for name in ("head", "put"):
        setattr(store.bucket, name, counted(name))
    store.put(content_key("code", b"print(0)"), b"print(0)")  # one there already
    calls.clear()
    copied = copy_folder(local.root, store, threads=2)
    assert (copied.uploaded, copied.present, copied.refused) == (3, 1, [])
    assert sorted(calls) == ["head"] * 4 + ["put"] * 3
    store.close()
