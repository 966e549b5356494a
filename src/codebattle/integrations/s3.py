"""A thin client to one S3-compatible bucket (AWS S3, Cloudflare R2, MinIO), for the blob
store (storage.S3BlobStore). Blocking: the API calls it off the event loop.

A missing object raises KeyError, like a missing file of the local store; every other
failure becomes one S3Error naming the operation, the bucket and the S3 error code, never a
credential. `transient` says whether trying again in a moment may succeed (no connection,
a timeout, a 5xx, throttling): the app answers those with 503, the rest is a set-up error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as NoConnection

from codebattle.config import Settings
from codebattle.errors import ServiceError

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_TRANSIENT = frozenset({"SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError"})
POOL = 16  # connections per client: the API's executor (storage.py) and blocking callers


@dataclass(frozen=True)
class Timeouts:
    """How long one call may wait: seconds to connect, seconds between two reads of the
    answer (not the whole transfer: a large package keeps reading), and tries in all."""

    connect: float
    read: float
    attempts: int


# The blob store's calls: a bucket that answers nothing gives up on a try within 15 s
# (the API bounds its whole wait further: storage.S3_CALL_SECONDS).
CALLS = Timeouts(connect=5, read=10, attempts=3)
# /readyz's check: one quick try; a bucket slower than this is not ready for a request.
PROBE = Timeouts(connect=2, read=2, attempts=1)


@dataclass(frozen=True)
class Head:
    """What a HEAD says of an object that exists."""

    etag: str  # a multipart upload's ends in -<parts>
    size: int


class S3Error(ServiceError):
    """An S3 call failed for another reason than a missing object."""

    service = "blobs"


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code") or status or "unknown")


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


class S3Bucket:
    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        secret_access_key: str,
        bucket: str,
        region: str,
        multipart_bytes: int,
        timeouts: Timeouts = CALLS,
    ) -> None:
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.multipart_bytes = multipart_bytes
        self.timeouts = timeouts
        self._keys = (access_key_id, secret_access_key)  # for `with_timeouts`; never shown
        config = Config(
            region_name=region,
            signature_version="s3v4",
            max_pool_connections=POOL,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            # total_max_attempts counts the first try (botocore's max_attempts does not).
            retries={"mode": "standard", "total_max_attempts": timeouts.attempts},
            # Path-style (endpoint/bucket/key): what R2, MinIO and AWS all accept for any
            # bucket name, without a DNS name per bucket.
            s3={"addressing_style": "path"},
        )
        # A session of its own: boto3's default session is not safe to share across threads.
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )
        # Above the threshold the upload goes in parts of the same size.
        self._transfer = TransferConfig(
            multipart_threshold=multipart_bytes, multipart_chunksize=multipart_bytes,
            max_concurrency=4,
        )  # fmt: skip

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Bucket:
        # config.load_settings has checked that all four are set with S3_BUCKET.
        assert settings.S3_BUCKET and settings.S3_ENDPOINT and settings.S3_ACCESS_KEY_ID
        assert settings.S3_SECRET_ACCESS_KEY is not None
        return cls(
            endpoint=settings.S3_ENDPOINT,
            access_key_id=settings.S3_ACCESS_KEY_ID,
            secret_access_key=settings.S3_SECRET_ACCESS_KEY.get_secret_value(),
            bucket=settings.S3_BUCKET,
            region=settings.S3_REGION,
            multipart_bytes=settings.S3_MULTIPART_BYTES,
        )

    def with_timeouts(self, timeouts: Timeouts) -> S3Bucket:
        """The same bucket through a client of its own that waits this long."""
        access_key_id, secret_access_key = self._keys
        return S3Bucket(
            endpoint=self.endpoint, access_key_id=access_key_id,
            secret_access_key=secret_access_key, bucket=self.bucket, region=self.region,
            multipart_bytes=self.multipart_bytes, timeouts=timeouts,
        )  # fmt: skip

    def close(self) -> None:
        """Close the client's connections (a call still running fails)."""
        self._client.close()

    def __repr__(self) -> str:
        return f"S3Bucket({self.endpoint}, {self.bucket!r})"

    def _error(self, operation: str, exc: Exception) -> S3Error:
        if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
            exc = exc.__context__
        if isinstance(exc, ClientError):
            code = _code(exc)
            transient = code in _TRANSIENT or _status(exc) >= 500
        else:  # no connection, a timeout, a bad response: botocore's own errors
            code = type(exc).__name__
            transient = isinstance(exc, NoConnection | ReadTimeoutError)
        return S3Error(
            f"S3 {operation} on bucket {self.bucket!r} at {self.endpoint} failed: {code}",
            transient=transient,
        )

    def head(self, key: str) -> Head | None:
        """The object's ETag and size, or None if it does not exist."""
        try:
            found = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._error("HEAD", exc) from None
        except BotoCoreError as exc:
            raise self._error("HEAD", exc) from None
        return Head(etag=str(found["ETag"]).strip('"'), size=int(found["ContentLength"]))

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise KeyError(key) from None
            raise self._error("GET", exc) from None
        except BotoCoreError as exc:
            raise self._error("GET", exc) from None

    def put(self, key: str, data: bytes) -> None:
        """Store the object (replacing one of the same key); in parts from
        `multipart_bytes` on."""
        try:
            if len(data) >= self.multipart_bytes:
                self._client.upload_fileobj(
                    io.BytesIO(data), self.bucket, key, Config=self._transfer
                )
            else:
                self._client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
            raise self._error("PUT", exc) from None

    def check(self) -> None:
        """Raise S3Error unless the bucket answers to these keys (start-up and /readyz)."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("HEAD bucket", exc) from None
