"""A real S3 API on loopback for tests: `moto_server` (moto's stand-alone S3), one process per
test session on a free port, stopped at the end. Each test takes a bucket of its own
(`s3_settings`: the S3_* settings naming it), so tests share the server and nothing else.

Use the fixtures (import them into a test module or a conftest):

    from tests.support.s3_server import s3_server, s3_settings  # noqa: F401
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.hosts import require
from tests.support.servers import free_port

READY_SECONDS = 30.0  # moto_server imports for a few seconds on a busy machine; a bound
KEY_ID, SECRET = "test-key-id", "test-secret-never-logged"  # moto takes any keys
REGION = "us-east-1"


def moto_server_path() -> str | None:
    beside = Path(sys.executable).parent / "moto_server"
    return str(beside) if beside.exists() else shutil.which("moto_server")


@dataclass
class S3Server:
    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "moto_server.log"

    def start(self) -> None:
        path = moto_server_path()
        assert path is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [path, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                with urllib.request.urlopen(self.url + "/moto-api/", timeout=2):  # noqa: S310
                    return
            except (urllib.error.URLError, OSError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = self.log.read_text()
                    raise RuntimeError(f"moto_server did not start:\n{log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET, region_name=REGION,
        )  # fmt: skip

    def new_bucket(self) -> str:
        name = f"cb-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str) -> dict[str, str]:
        """The S3_* settings of one bucket of this server, as environment variables."""
        return {
            "S3_ENDPOINT": self.url,
            "S3_ACCESS_KEY_ID": KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET,
            "S3_BUCKET": bucket,
            "S3_REGION": REGION,
        }


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    require(moto_server_path() is not None, "moto_server (pip install 'moto[server]')")
    server = S3Server(tmp_path_factory.mktemp("s3"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_settings(s3_server: S3Server) -> dict[str, str]:
    """The S3_* settings of a new, empty bucket of the session's server."""
    return s3_server.settings(s3_server.new_bucket())
