"""A remote in an S3 bucket (AWS, or anything speaking S3: SeaweedFS, MinIO, R2...), via boto3.

Where to connect comes from boto3's own configuration (profiles, ``AWS_ENDPOINT_URL_S3``,
``AWS_REGION``, credentials chain), overridden per remote by untracked git config
``mlv-remote.NAME.{endpoint,region,profile,addressingStyle}``. Credentials are never read from
tracked files: boto3 finds them (env, ``~/.aws/credentials``, SSO, instance roles).
boto3 is imported only when an S3 remote is opened: it costs ~0.3 s of start-up.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from .base import (
    Data,
    ObjectInfo,
    Remote,
    RemoteError,
    RemoteNotFound,
    join,
    read_at,
    size_of,
    validate_name,
    validate_prefix,
)

# Uploads above this size go multipart, in parts of this size: parts upload in parallel and a
# failed part is resent alone. 16 MiB measured best against SeaweedFS here (8 MiB: -10 %).
MULTIPART_SIZE = 16 * 1024 * 1024
PART_THREADS = 4

_AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
               "TokenRefreshRequired", "AuthorizationHeaderMalformed", "InvalidClientTokenId"}
_DENIED_CODES = {"AccessDenied", "AllAccessDisabled", "AccountProblem", "403"}
_RETRY_CODES = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "Throttling",
                "ThrottlingException", "RequestTimeTooSkewed", "500", "502", "503", "504"}


def endpoint_problem(endpoint: str) -> str | None:
    """Why ``endpoint`` is no S3 endpoint URL botocore takes, or None (empty: boto3's default)."""
    if not endpoint:
        return None
    scheme, sep, rest = endpoint.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
        return f"endpoint {endpoint!r} is not an http:// or https:// URL (e.g. http://{endpoint.split('://')[-1]})"
    return None


class S3Remote(Remote):
    """Objects are keys ``<prefix>/<name>`` in ``bucket``."""

    # S3 latency is per request: several in flight keep the pipe full (8 x 16 MiB ~ 128 MiB buffered).
    parallelism = 8

    def __init__(self, bucket: str, prefix: str = "", options: Mapping[str, str] | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.options = dict(options or {})
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._client: Any = None
        self._lock = threading.Lock()
        self._uploads: dict[str, set[str]] = {}  # list_staged's unfinished uploads, for delete

    # -- connection ----------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """The boto3 S3 client (thread-safe; created on first use)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import boto3
        import botocore.exceptions
        from botocore.config import Config

        o = self.options
        problem = endpoint_problem(o.get("endpoint") or "")
        if problem:  # botocore said "internal error: ValueError: Invalid endpoint"
            raise RemoteError(f"{self.url}: {problem}; fix git config mlv-remote.{self.name}.endpoint")
        try:
            session = boto3.session.Session(profile_name=o.get("profile") or None)
        except botocore.exceptions.ProfileNotFound as e:
            # the name came from our setting, else from the environment: say which to fix
            where = (f"mlv-remote.{self.name}.profile" if o.get("profile") else
                     "AWS_PROFILE" if os.environ.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE")
            raise RemoteError(f"{self.url}: {e}; fix {where} or ~/.aws/config") from None
        self._session = session
        s3cfg: dict[str, Any] = {}
        if o.get("addressingstyle"):
            s3cfg["addressing_style"] = o["addressingstyle"]
        config = Config(
            s3=s3cfg or None,
            # retries belong to remotes.transfer, which knows what the whole operation is doing
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=2 * self.parallelism + 4,
            connect_timeout=10,
            read_timeout=60,
            # botocore >= 1.36 checksums every body in Python; sha256 payload signing already
            # protects the upload over plain http, and we verify every object we read ourselves.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return session.client(
            "s3", endpoint_url=o.get("endpoint") or None, region_name=o.get("region") or None,
            config=config,
        )

    def close(self) -> None:
        """Drop the client and its connection pool."""
        self._client = None

    # -- errors --------------------------------------------------------------------------------
    def _key(self, name: str) -> str:
        name = validate_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def _error(self, e: Exception, name: str) -> RemoteError:
        import botocore.exceptions as bx

        if isinstance(e, bx.ClientError):
            err = e.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchKey", "NoSuchUpload", "404", "NotFound"):
                return RemoteNotFound(f"{self.url}: {name} does not exist")
            if code == "NoSuchBucket":
                return RemoteError(f"{self.url}: bucket {self.bucket!r} does not exist; create it first")
            if code in _AUTH_CODES:
                return RemoteError(
                    f"{self.url}: the server rejected the credentials ({code}) {self._credentials_source()}; "
                    "check that access key and its secret"
                )
            if code in _DENIED_CODES:
                return RemoteError(f"{self.url}: access denied to {name} ({code}); check the key's "
                                   "permissions (a read-only key cannot push) and the bucket policy")
            if code in _RETRY_CODES or (isinstance(status, int) and status >= 500):
                return RemoteError(f"{self.url}: {code or status}: {err.get('Message', '')}", retryable=True)
            return RemoteError(f"{self.url}: {code or status}: {err.get('Message', e)}")
        if isinstance(e, bx.NoCredentialsError | bx.PartialCredentialsError):
            return RemoteError(
                f"{self.url}: no S3 credentials found; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                f"AWS_PROFILE or mlv-remote.{self.name}.profile"
            )
        if isinstance(e, bx.EndpointConnectionError | bx.ConnectionClosedError | bx.ReadTimeoutError
                      | bx.ConnectTimeoutError | bx.ResponseStreamingError | ConnectionError):
            return RemoteError(f"{self.url}: connection failed: {e}{self._endpoint_hint()}", retryable=True)
        if isinstance(e, bx.SSOError | bx.TokenRetrievalError | bx.CredentialRetrievalError):
            # boto3's words name neither the profile nor the remedy ("Error loading SSO Token: Token
            # for corp does not exist"; a failing credential_process: "... custom-process: ")
            session = getattr(self, "_session", None)
            profile = session.profile_name if session is not None else "default"
            fix = f"run `aws sso login --profile {profile}`"
            if isinstance(e, bx.CredentialRetrievalError):
                fix = f"check the credential_process of profile {profile!r} in ~/.aws/config"
            return RemoteError(f"{self.url}: no credentials from profile {profile!r}: "
                               f"{str(e).strip().rstrip(':')}; {fix}")
        if isinstance(e, bx.BotoCoreError):
            hint = self._endpoint_hint() if isinstance(e, bx.ConnectionError) else ""  # a proxy's refusal
            return RemoteError(f"{self.url}: {e}{hint}")
        if isinstance(e, OSError):  # sockets reset under us
            return RemoteError(f"{self.url}: connection failed: {e}", retryable=True)
        raise e

    def _endpoint_hint(self) -> str:
        """When AWS's own endpoint was tried because none is set here: endpoints are local settings,
        so a fresh clone of a project on an S3-compatible server (MinIO, SeaweedFS, R2) asks AWS,
        and was told only that https://BUCKET.s3.amazonaws.com could not be reached."""
        client = self._client
        used = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or "")
        if self.options.get("endpoint") or "amazonaws.com" not in used:
            return ""
        return (f" (no endpoint is set for '{self.name}' here, so AWS's ({used}) was used: for an "
                f"S3-compatible server run `git mlv remote modify {self.name} endpoint URL`; "
                "endpoints are set in each clone)")

    def _credentials_source(self) -> str:
        """Which key boto3 sent and where it found it: an exported AWS_ACCESS_KEY_ID wins over
        AWS_PROFILE, and a user who set a profile could not tell the environment's key was used."""
        session = getattr(self, "_session", None)
        try:
            creds = session.get_credentials() if session is not None else None
        except Exception:  # noqa: BLE001 - only words for an error already being reported
            creds = None
        if creds is None:
            return "from boto3's chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials)"
        key = str(getattr(creds, "access_key", "") or "")
        shown = f"key ...{key[-4:]} " if len(key) > 8 else ""
        method = str(getattr(creds, "method", "") or "")
        profile = session.profile_name if session is not None else "default"
        env = os.environ
        if method == "env":
            where = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment"
            if env.get("AWS_PROFILE"):
                where += f" (they win over AWS_PROFILE={env['AWS_PROFILE']})"
        elif method == "shared-credentials-file":
            where = f"profile {profile!r} of {env.get('AWS_SHARED_CREDENTIALS_FILE', '~/.aws/credentials')}"
        elif method == "config-file":
            where = f"profile {profile!r} of {env.get('AWS_CONFIG_FILE', '~/.aws/config')}"
        else:
            where = f"boto3's {method or 'credential'} provider"
        return f"for {shown}from {where}"

    def _call(self, name: str, fn: Any, **kw: Any) -> Any:
        try:
            return fn(Bucket=self.bucket, **kw)
        except RemoteError:
            raise
        except Exception as e:  # classified by _error; anything unknown is re-raised there
            raise self._error(e, name) from None

    # -- the interface -------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        """HEAD the key."""
        try:
            self._call(name, self.client.head_object, Key=self._key(name))
            return True
        except RemoteNotFound:
            return False

    def _read(self, name: str, **kw: Any) -> bytes:
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(name), **kw)
            return resp["Body"].read()
        except RemoteError:
            raise
        except Exception as e:
            raise self._error(e, name) from None

    def get(self, name: str) -> bytes:
        """GET the whole object."""
        return self._read(name)

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """A ranged GET."""
        if length <= 0:
            return b""
        return self._read(name, Range=f"bytes={offset}-{offset + length - 1}")

    def put(self, name: str, data: Data) -> None:
        """PUT (atomic on S3); multipart above MULTIPART_SIZE."""
        key = self._key(name)
        size = size_of(data)
        if size <= MULTIPART_SIZE:
            self._call(name, self.client.put_object, Key=key, Body=join(data))
        else:
            self._multipart(name, key, data, size)

    def _multipart(self, name: str, key: str, data: Data, size: int) -> None:
        """A multipart upload, parts read from ``data`` only as they are sent, 4 at a time.

        Done here rather than with boto3's ``upload_fileobj``: that copies the whole object into
        its own buffers first and pushed 30 % less through SeaweedFS on this machine.
        """
        from concurrent.futures import ThreadPoolExecutor

        upload = self._call(name, self.client.create_multipart_upload, Key=key)["UploadId"]

        def send(number: int) -> dict[str, Any]:
            offset = (number - 1) * MULTIPART_SIZE
            body = read_at(data, offset, min(MULTIPART_SIZE, size - offset))
            resp = self._call(name, self.client.upload_part, Key=key, UploadId=upload,
                              PartNumber=number, Body=body)
            return {"PartNumber": number, "ETag": resp["ETag"]}

        try:
            count = (size + MULTIPART_SIZE - 1) // MULTIPART_SIZE
            with ThreadPoolExecutor(PART_THREADS) as ex:
                parts = list(ex.map(send, range(1, count + 1)))
            self._call(name, self.client.complete_multipart_upload, Key=key, UploadId=upload,
                       MultipartUpload={"Parts": parts})
        except BaseException:
            try:  # leave no hidden, billed parts behind
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            except Exception:
                pass
            raise

    def list_info(self, prefix: str) -> dict[str, ObjectInfo]:
        """Paginated listing of ``prefix`` (LastModified is the server's time of the write)."""
        full = self._key_prefix(validate_prefix(prefix))
        out: dict[str, ObjectInfo] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full)
            for page in pages:
                for obj in page.get("Contents", ()):
                    rest = obj["Key"][len(full):]
                    if rest and "/" not in rest:
                        out[prefix + rest] = ObjectInfo(int(obj["Size"]), obj["LastModified"].timestamp())
        except RemoteNotFound:
            raise self._not_s3() from None
        except RemoteError:
            raise
        except Exception as e:
            err = self._error(e, prefix)
            raise (self._not_s3() if isinstance(err, RemoteNotFound) else err) from None
        return out

    def _not_s3(self) -> RemoteError:
        """A listing answered 404 with no S3 error code: a bucket that exists lists even an empty
        prefix, and a missing one says NoSuchBucket, so the endpoint is no S3 server (a web
        server, a wrong port or path). It said "packs/ does not exist"."""
        where = self.options.get("endpoint") or "boto3's endpoint"
        return RemoteError(f"{self.url}: {where} answered 'not found' to a listing of bucket "
                           f"{self.bucket!r}, not as S3 does; check git config "
                           f"mlv-remote.{self.name}.endpoint")

    def _key_prefix(self, prefix: str) -> str:
        return f"{self.prefix}/{prefix}" if self.prefix else prefix

    def list_staged(self, prefix: str) -> dict[str, ObjectInfo]:
        """Multipart uploads under ``prefix`` never completed nor aborted (a push killed while it
        sent a pack above MULTIPART_SIZE): invisible to listings, their parts are stored (and
        billed) until aborted. By the names of their objects, with the time the upload began;
        ``delete(name)`` aborts them."""
        full = self._key_prefix(validate_prefix(prefix))
        out: dict[str, ObjectInfo] = {}
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=full)
            for page in pages:
                for up in page.get("Uploads", ()):
                    rest = up["Key"][len(full):]
                    if not rest or "/" in rest:
                        continue
                    name = prefix + rest
                    with self._lock:
                        self._uploads.setdefault(name, set()).add(up["UploadId"])
                    when = up["Initiated"].timestamp()
                    if name not in out or when > out[name].mtime:
                        out[name] = ObjectInfo(0, when)
        except Exception:  # noqa: BLE001 - a server without the call, or refusing it: a
            return out     # cleanup skipped, never a collection stopped
        return out

    def delete(self, name: str) -> None:
        """DELETE the key (S3 answers 204 for a missing key too), and abort the unfinished uploads
        of it that ``list_staged`` found."""
        try:
            self._call(name, self.client.delete_object, Key=self._key(name))
        except RemoteNotFound:
            pass
        with self._lock:
            uploads = self._uploads.pop(name, set())
        for upload in uploads:
            try:
                self._call(name, self.client.abort_multipart_upload, Key=self._key(name),
                           UploadId=upload)
            except RemoteNotFound:  # NoSuchUpload: completed or aborted since
                pass

