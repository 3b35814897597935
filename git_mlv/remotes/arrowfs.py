"""Remotes on Azure Blob Storage and Google Cloud Storage, through ``pyarrow.fs``.

pyarrow ships both clouds' C++ clients (AzureFileSystem, GcsFileSystem): no SDK to install, and
the same code path for both. Objects are ``<container or bucket>/<prefix>/<name>``.

Atomic ``put``. pyarrow's Azure output stream creates an empty blob when it opens and commits
the staged blocks when it closes, and both clouds' streams commit what was written when closed
after an error. So a pack is written in place (a pack is invisible until its index exists: the
index is the commit point, docs/remotes.md), while indexes and run-cache keys, which readers act
on as soon as they are listed, are written to a hidden temp object (under ``.tmp-*/``, never
listed) and copied into place server side, which is atomic on both clouds.

Credentials come from each cloud's usual chain; endpoints are configurable (emulators, sovereign
clouds, private endpoints). Retries belong to ``remotes.transfer``: the GCS client's own retry
loop is cut to ``CLIENT_RETRY_SECONDS``; the Azure client's is not configurable through pyarrow
(3 tries, ~6 s against a dead server).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from .base import (
    Data,
    ObjectInfo,
    Remote,
    RemoteError,
    RemoteNotFound,
    read_at,
    size_of,
    validate_name,
    validate_prefix,
)

WRITE_PIECE = 8 << 20  # bytes per write: one Azure block (Put Block) or GCS upload chunk each
CLIENT_RETRY_SECONDS = 1
#: Azurite's well-known development account and key (public, documented by Microsoft), used only
#: when AZURE_STORAGE_CONNECTION_STRING says ``UseDevelopmentStorage=true``
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_RETRYABLE = ("could not connect", "fail to get a new connection", "connection reset", "connection refused",
              "timed out", "timeout", "unavailable", "deadline_exceeded", "serverbusy", "internalerror",
              "operationtimedout", "http_status_code=500", "http_status_code=502", "http_status_code=503",
              "http_status_code=504", "] 500 ", "] 502 ", "] 503 ", "] 504 ", "broken pipe",
              "empty reply", "recv failure", "send failure", "curl error [18]", "curl error [52]",
              "curl error [55]", "curl error [56]",
              # the Azure SDK's curl transport (azure-core-cpp curl.cpp), under pyarrow's Azure
              # filesystem: Azurite dropped a connection mid-response in a CI run of
              # test_contract[azure]; and libcurl's own words for errors 7, 52, 55 and 56
              "connection closed before getting full response", "connection was closed by the server",
              "error while polling for socket", "error while reading from network socket",
              "couldn't connect", "server returned nothing", "failed sending data",
              "failure when receiving data")
_AUTH = ("authenticationfailed", "authorizationfailure", "failed to authenticate", "unauthenticated",
         "oauth2 access token", "invalid_grant", "credentialunavailable", "http_status_code=401",
         "] 401 ", "invalidauthenticationinfo", "no credential")
_DENIED = ("authorizationpermissionmismatch", "permission_denied", "http_status_code=403", "] 403 ",
           "insufficientaccountpermissions", "authorizationresourcetypemismatch")


def _failures() -> tuple[type[BaseException], ...]:
    """What pyarrow raises for a failed request: OSError mostly, but the ArrowException family for
    some of gcloud-cpp's statuses (UNKNOWN, INVALID_ARGUMENT: a credentials file missing or not
    one), which reached the user as "internal error: ArrowException"."""
    import pyarrow.lib

    return (OSError, pyarrow.lib.ArrowException)


def _cause(e: BaseException) -> str:
    """The part of a gcloud-cpp message that says what went wrong: its first line is a paragraph
    about OAuth2 in general, and the cause ("Cannot open credentials file X") comes after it."""
    text = str(e)
    m = re.search(r"The underlying error message was: (.*?)(?: error_info=|$)", text, re.S)
    return _without_queries(m.group(1).strip().rstrip("."))[:200] if m else _first_line(e)[:200]


def _first_line(e: BaseException) -> str:
    text = _without_queries(str(e).strip())
    return text.splitlines()[0] if text else type(e).__name__


def _without_queries(text: str) -> str:
    """``text`` with the query of every URL in it cut: the Azure client names the request URL in
    its errors, and with a SAS token its query is the token (the signature is a credential)."""
    return re.sub(r"(https?://[^\s?]*)\?[^\s)'\"]*", r"\1", text)


class ArrowFSRemote(Remote):
    """Named blobs under ``<root>/<prefix>/`` of a pyarrow FileSystem (``root``: bucket or container)."""

    parallelism = 4
    scheme = ""
    root_word = "bucket"  # "container" on Azure, for messages

    def __init__(self, root: str, prefix: str = "", options: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.prefix = prefix.strip("/")
        self.options = {k.lower(): v for k, v in (options or {}).items()}
        self.url = f"{self.scheme}://{root}/{self.prefix}".rstrip("/")
        self._fs: Any = None
        self._lock = threading.Lock()
        self._inputs: dict[str, Any] = {}  # open pack files: one metadata request per pack, not per range

    # -- connection ----------------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        """The pyarrow FileSystem (created on first use; thread-safe)."""
        if self._fs is None:
            with self._lock:
                if self._fs is None:
                    self._fs = self._make_fs()
        return self._fs

    def _make_fs(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Drop open files and the client."""
        with self._lock:
            for f in self._inputs.values():
                try:
                    f.close()
                except Exception:  # noqa: BLE001 - closing a read handle cannot lose data
                    pass
            self._inputs.clear()
            self._fs = None

    # -- names and errors ----------------------------------------------------------------------
    def _path(self, name: str) -> str:
        name = validate_name(name)
        return "/".join(p for p in (self.root, self.prefix, name) if p)

    def _error(self, e: BaseException, name: str, writing: bool = False) -> RemoteError:
        text = str(e)
        low = text.lower()
        if isinstance(e, FileNotFoundError) and not writing:
            return RemoteNotFound(f"{self.url}: {name} does not exist")
        if "containernotfound" in low or (writing and isinstance(e, FileNotFoundError)):
            return RemoteError(f"{self.url}: {self.root_word} {self.root!r} does not exist; create it first")
        if any(w in low for w in _AUTH):
            return RemoteError(f"{self.url}: {self._credentials_hint()} ({_cause(e)})")
        if any(w in low for w in _DENIED):
            return RemoteError(f"{self.url}: access denied to {name}; check the {self.root_word}'s "
                               "permissions for these credentials")
        if any(w in low for w in _RETRYABLE) or isinstance(e, ConnectionError | TimeoutError):
            return RemoteError(f"{self.url}: connection failed: {_first_line(e)[:300]}", retryable=True)
        if "resourcenotfound" in low:
            return RemoteError(f"{self.url}: the storage account or {self.root_word} does not exist "
                               f"({_first_line(e)[:200]})")
        return RemoteError(f"{self.url}: {_first_line(e)[:300]}")

    def _credentials_hint(self) -> str:  # pragma: no cover - overridden
        return "the server rejected the credentials"

    # -- the interface -------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        """One metadata request."""
        import pyarrow.fs as pafs

        path = self._path(name)
        try:
            return bool(self.fs.get_file_info(path).type == pafs.FileType.File)
        except _failures() as e:
            raise self._error(e, name) from None

    def get(self, name: str) -> bytes:
        """The whole object, streamed into memory."""
        path = self._path(name)
        try:
            with self.fs.open_input_stream(path) as f:
                return bytes(f.read())
        except _failures() as e:
            raise self._error(e, name) from None

    def _input(self, name: str, path: str) -> Any:
        if not name.endswith(".pack"):  # packs never change; other names may be replaced
            return self.fs.open_input_file(path)
        with self._lock:
            f = self._inputs.get(name)
        if f is None:
            f = self.fs.open_input_file(path)
            with self._lock:
                if len(self._inputs) > 64:
                    self._inputs.pop(next(iter(self._inputs))).close()
                self._inputs[name] = f
        return f

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """A ranged read (pyarrow's ``read_at``: safe from several threads on one file)."""
        path = self._path(name)
        if length <= 0:
            return b""
        try:
            f = self._input(name, path)
            size = f.size()
            if offset >= size:
                return b""
            return bytes(f.read_at(min(length, size - offset), offset))
        except _failures() as e:
            with self._lock:
                self._inputs.pop(name, None)
            raise self._error(e, name) from None

    def _write(self, path: str, data: Data, name: str) -> None:
        size = size_of(data)
        try:
            with self.fs.open_output_stream(path) as out:
                # whole 8 MiB pieces whatever the parts' sizes: on Azure each write is one staged
                # block (a request), so a pack made of many small runs must not become many blocks
                for offset in range(0, size, WRITE_PIECE):
                    out.write(read_at(data, offset, min(WRITE_PIECE, size - offset)))
        except _failures() as e:
            raise self._error(e, name, writing=True) from None

    def put(self, name: str, data: Data) -> None:
        """Packs in place; indexes and run-cache keys through a temp object and a server-side copy."""
        path = self._path(name)
        with self._lock:
            stale = self._inputs.pop(name, None)  # a replaced object must not be read through an old handle
        if stale is not None:
            stale.close()
        if name.endswith(".pack"):
            self._write(path, data, name)
            return
        folder, _, base = name.rpartition("/")
        # a folder of its own, deleted with delete_dir: pyarrow's Azure delete_file takes a lease
        # and sometimes stalls ~7 s releasing it (1 in 10 against Azurite); delete_dir lists and
        # batch-deletes instead (100 temp objects: 2.3 s, no stall; measured)
        tmp_dir = "/".join(p for p in (self.root, self.prefix, folder, f".tmp-{secrets.token_hex(8)}") if p)
        tmp = f"{tmp_dir}/{base}"
        try:
            self._write(tmp, data, name)
            try:
                self.fs.copy_file(tmp, path)
            except _failures() as e:
                raise self._error(e, name, writing=True) from None
        finally:
            try:
                self.fs.delete_dir(tmp_dir)
            except _failures():
                pass  # already gone, or the server is down: a hidden leftover, never listed

    def list_info(self, prefix: str) -> dict[str, ObjectInfo]:
        """``{name: ObjectInfo}`` under ``prefix`` (hidden temp objects left out). An object whose
        listing gives no time counts as written now: gc's grace period then keeps it."""
        import time

        import pyarrow.fs as pafs

        prefix = validate_prefix(prefix)
        base = "/".join(p for p in (self.root, self.prefix, prefix.rstrip("/")) if p)
        try:
            infos = self.fs.get_file_info(pafs.FileSelector(base, allow_not_found=True, recursive=False))
            now = time.time()
            out = {prefix + os.path.basename(i.path):
                   ObjectInfo(int(i.size), i.mtime.timestamp() if i.mtime is not None else now)
                   for i in infos
                   if i.type == pafs.FileType.File and not os.path.basename(i.path).startswith(".")}
            if not out and self.fs.get_file_info(self.root).type == pafs.FileType.NotFound:
                raise RemoteError(f"{self.url}: {self.root_word} {self.root!r} does not exist; "
                                  "create it first")
        except _failures() as e:
            raise self._error(e, prefix) from None
        return out

    def delete(self, name: str) -> None:
        """Delete; no error when it is already gone."""
        path = self._path(name)
        try:
            self.fs.delete_file(path)
        except FileNotFoundError:
            pass
        except _failures() as e:
            raise self._error(e, name) from None
        with self._lock:
            f = self._inputs.pop(name, None)
        if f is not None:
            f.close()


def _endpoint(value: str) -> tuple[str, str]:
    """``http://host:port`` -> ("http", "host:port"); a bare ``host:port`` means https."""
    value = value.strip().rstrip("/")
    if "://" in value:
        scheme, _, authority = value.partition("://")
        return scheme.lower(), authority
    return "https", value


def _account_key(key: str, source: str, url: str) -> str:
    """The account key, checked: Azure's client decodes it only at the first request, and then says
    only "Unexpected end of Base64 encoded string" (a key cut short when copied, or a SAS token or
    connection string given as the key)."""
    key = "".join(key.split())
    try:
        base64.b64decode(key, validate=True)
        return key
    except ValueError:
        pass
    raise RemoteError(f"{url}: {source} is not an Azure storage account key (88 base64 characters, as "
                      f"the portal's 'Access keys' shows it; a SAS token goes in sasToken or "
                      f"AZURE_STORAGE_SAS_TOKEN): copy the key again")


def _sas_query(sas: str, source: str, url: str) -> str:
    """A SAS token as pyarrow wants it: the query string with its leading ``?`` (without it, the Azure
    client appends the token to the request's path: every request fails). Accepts the token with or
    without ``?``, and the portal's "Blob SAS URL" (``https://ACCOUNT.blob.core.windows.net/C?sv=...``)."""
    token = sas.strip().strip('"\'')
    if "://" in token or token.startswith("/"):
        token = token.partition("?")[2]
    token = token.lstrip("?&")
    if "sig=" not in token:
        raise RemoteError(f"{url}: {source} is not a SAS token (no sig=...): give the token as the "
                          f"portal shows it (sv=...&sig=...) or the whole SAS URL")
    return "?" + token


class AzureRemote(ArrowFSRemote):
    """A prefix in an Azure Blob Storage container: ``az://container[/prefix]``.

    The storage account is ``az://container@ACCOUNT/...`` in the URL, else
    ``mlv-remote.NAME.account``, else the one of ``AZURE_STORAGE_CONNECTION_STRING``, else
    ``AZURE_STORAGE_ACCOUNT``. Credentials, as the ``az`` CLI reads them: ``mlv-remote.NAME.accountKey``
    or ``.sasToken``, the connection string's key or SAS, ``AZURE_STORAGE_KEY``,
    ``AZURE_STORAGE_SAS_TOKEN``, else Azure's DefaultAzureCredential chain (service principal
    variables, workload or managed identity, ``az login``). The endpoint: ``mlv-remote.NAME.endpoint``,
    else the connection string's ``BlobEndpoint``.
    """

    scheme = "az"
    root_word = "container"

    def __init__(self, container: str, prefix: str = "", options: Mapping[str, str] | None = None,
                 account: str | None = None) -> None:
        super().__init__(container, prefix, options)
        self.account = account
        self._sent = ""  # which credential the client sends, for messages (_make_fs)
        if account:
            self.url = f"az://{container}@{account}/{self.prefix}".rstrip("/")

    def _connection(self) -> dict[str, str]:
        """``AZURE_STORAGE_CONNECTION_STRING`` as a dict (``UseDevelopmentStorage=true``: Azurite)."""
        raw = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "")
        items = dict(p.split("=", 1) for p in raw.split(";") if "=" in p)
        items = {k.lower(): v for k, v in items.items()}
        if items.get("usedevelopmentstorage", "").lower() == "true":
            items.setdefault("accountname", AZURITE_ACCOUNT)
            items.setdefault("blobendpoint", f"http://127.0.0.1:10000/{AZURITE_ACCOUNT}")
        return items

    def _account(self) -> str:
        account = (self.account or self.options.get("account") or self._connection().get("accountname")
                   or os.environ.get("AZURE_STORAGE_ACCOUNT") or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME"))
        if not account:
            raise RemoteError(f"{self.url}: no storage account: use az://{self.root}@ACCOUNT/..., set "
                              f"git config mlv-remote.{self.name}.account ACCOUNT, or AZURE_STORAGE_ACCOUNT")
        return account

    def _make_fs(self) -> Any:
        import pyarrow.fs as pafs

        o = self.options
        conn = self._connection()
        kw: dict[str, Any] = {}
        endpoint = o.get("endpoint")
        if not endpoint and conn.get("blobendpoint"):
            # BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1: pyarrow adds the account itself
            scheme, _, rest = conn["blobendpoint"].partition("://")
            endpoint = f"{scheme}://{rest.split('/', 1)[0]}"
        if endpoint:
            scheme, authority = _endpoint(endpoint)
            # both: pyarrow probes the Data Lake (dfs) endpoint for hierarchical namespace support,
            # and would ask Azure's public dfs host otherwise (measured with Azurite)
            kw.update(blob_storage_authority=authority, dfs_storage_authority=authority,
                      blob_storage_scheme=scheme, dfs_storage_scheme=scheme)
        key, key_from = self._setting("accountkey", "accountKey", conn, "accountkey", "AZURE_STORAGE_KEY")
        sas, sas_from = self._setting("sastoken", "sasToken", conn, "sharedaccesssignature",
                                      "AZURE_STORAGE_SAS_TOKEN")
        if conn.get("usedevelopmentstorage", "").lower() == "true" and not key and not sas:
            key = AZURITE_KEY
        if key:
            kw["account_key"] = _account_key(key, key_from, self.url)
            self._sent = f"the account key of {key_from}"
        elif sas:
            kw["sas_token"] = _sas_query(sas, sas_from, self.url)
            self._sent = f"the SAS token of {sas_from} (expired, or signed for another account?)"
        try:
            return pafs.AzureFileSystem(self._account(), **kw)
        except (OSError, ValueError, TypeError) as e:
            raise RemoteError(f"{self.url}: cannot set up the Azure client: {_first_line(e)}") from None

    def _setting(self, option: str, spelled: str, conn: Mapping[str, str], conn_key: str,
                 env: str) -> tuple[str | None, str]:
        """A credential and where it came from (for messages): the remote's setting, the connection
        string, or the environment variable, in that order."""
        if self.options.get(option):
            return self.options[option], f"mlv-remote.{self.name}.{spelled}"
        if conn.get(conn_key):
            return conn[conn_key], "AZURE_STORAGE_CONNECTION_STRING"
        return os.environ.get(env), env

    def _credentials_hint(self) -> str:
        if self._sent:
            return f"the server rejected the credentials: {self._sent}"
        return ("the server rejected the credentials; check AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN "
                f"(or mlv-remote.{self.name}.accountKey), or `az login` for DefaultAzureCredential")


class GCSRemote(ArrowFSRemote):
    """A prefix in a Google Cloud Storage bucket: ``gs://bucket[/prefix]``.

    Credentials: Google's Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``,
    ``gcloud auth application-default login``, the metadata server), or none with
    ``mlv-remote.NAME.anonymous true`` (public buckets, emulators). ``mlv-remote.NAME.endpoint``
    or ``STORAGE_EMULATOR_HOST`` (which implies anonymous) points it elsewhere.
    """

    scheme = "gs"
    parallelism = 4

    def _make_fs(self) -> Any:
        import datetime

        import pyarrow.fs as pafs

        o = self.options
        kw: dict[str, Any] = {"retry_time_limit": datetime.timedelta(seconds=CLIENT_RETRY_SECONDS)}
        emulator = os.environ.get("STORAGE_EMULATOR_HOST")
        endpoint = o.get("endpoint") or emulator
        if endpoint:
            scheme, authority = _endpoint(endpoint if "://" in endpoint or not emulator else f"http://{endpoint}")
            kw.update(scheme=scheme, endpoint_override=authority)
        anonymous = o.get("anonymous", "").lower() in ("1", "true", "yes", "on")
        if anonymous or (emulator and not o.get("endpoint")):
            kw["anonymous"] = True
        try:
            return pafs.GcsFileSystem(**kw)
        except (OSError, ValueError, TypeError) as e:
            raise RemoteError(f"{self.url}: cannot set up the GCS client: {_first_line(e)}") from None

    def _credentials_hint(self) -> str:
        return ("no usable Google Cloud credentials; set GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth "
                f"application-default login` (public buckets and emulators: git config "
                f"mlv-remote.{self.name}.anonymous true)")
