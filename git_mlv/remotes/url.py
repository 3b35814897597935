"""Remote URLs: which backend a URL names, and opening it.

Accepted forms::

    /abs/folder   rel/folder   ~/folder   file:///abs/folder        a folder
    s3://bucket[/prefix]                                            an S3 bucket
    gs://bucket[/prefix]                                            a Google Cloud Storage bucket
    az://container[@account][/prefix]                               an Azure Blob Storage container
    ssh://[user@]host[:port]/abs/path    [user@]host:rel/or/abs     SFTP on an SSH server
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..errors import UsageError
from .base import Remote

_SCP = re.compile(r"(?:(?P<user>[^@/:]+)@)?(?P<host>[A-Za-z0-9._-]+):(?P<path>.*)\Z")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_GCS_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]\Z")
_AZ_CONTAINER = re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\Z")
_AZ_ACCOUNT = re.compile(r"[a-z0-9]{3,24}\Z")
_SCHEMES = ("s3", "gs", "az", "file", "ssh", "http", "https")


@dataclass(frozen=True)
class RemoteURL:
    """A parsed remote URL."""

    scheme: str  # "folder", "s3", "gs", "az" or "ssh"
    path: str  # folder path, bucket/container prefix, or path on the SSH server
    host: str = ""  # bucket, container or SSH host
    user: str | None = None  # SSH user, or the Azure storage account
    port: int | None = None


def parse(url: str, base_dir: str | None = None) -> RemoteURL:
    """Parse ``url``; a relative folder path is taken relative to ``base_dir``."""
    url = url.strip()
    if not url:
        raise UsageError("empty remote URL")
    if url.startswith(("s3://", "gs://", "az://")) and ("?" in url or "#" in url):
        # urlsplit dropped them: s3://bkt?region=eu-west-1 stored the data at s3://bkt, the
        # setting unread, and s3://bkt/run#3 at the prefix "run"
        kept = url.split("?", 1)[0].split("#", 1)[0]
        raise UsageError(f"{url!r} holds '?' or '#', which a bucket URL cannot: it would read as "
                         f"{kept}; settings (region, endpoint, sasToken...) go in `git mlv remote "
                         "modify NAME KEY VALUE`, and a prefix is letters, digits and / - _ .")
    if url.startswith("s3://"):
        parts = urlsplit(url)
        if not _BUCKET.match(parts.netloc):
            raise UsageError(f"not a valid S3 bucket name in {url!r}")
        return RemoteURL("s3", _bucket_prefix(url, parts.path), host=parts.netloc)
    if url.startswith("gs://"):
        parts = urlsplit(url)
        if not _GCS_BUCKET.match(parts.netloc):
            raise UsageError(f"not a valid GCS bucket name in {url!r}")
        return RemoteURL("gs", _bucket_prefix(url, parts.path), host=parts.netloc)
    if url.startswith("az://"):
        parts = urlsplit(url)
        container, _, account = parts.netloc.partition("@")
        if not _AZ_CONTAINER.match(container):
            raise UsageError(f"not a valid Azure container name in {url!r} (3-63 lowercase letters, "
                             "digits and single hyphens)")
        if account and not _AZ_ACCOUNT.match(account):
            raise UsageError(f"not a valid Azure storage account name in {url!r}")
        return RemoteURL("az", _bucket_prefix(url, parts.path), host=container, user=account or None)
    if url.startswith("ssh://"):
        parts = urlsplit(url)
        if not parts.hostname:
            raise UsageError(f"no host in {url!r} (expected ssh://[user@]host[:port]/path)")
        try:
            port = parts.port
        except ValueError:
            raise UsageError(f"bad port in {url!r}") from None
        path = unquote(parts.path) or "/"
        # ssh://host/~/x means relative to the login folder, as in git's ssh URLs
        path = _home_relative(path[1:], url) if path.startswith("/~") else path
        return RemoteURL("ssh", path, host=parts.hostname, user=parts.username, port=port)
    if url.startswith("file://"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            # file://data/store read "data" as a host: say what was meant (before: "file:// URLs
            # must be local", to a user who had typed a local path)
            raise UsageError(f"{url!r} names the host {parts.netloc!r}: a file:// URL takes an "
                             "absolute path after three slashes (file:///abs/path); a folder "
                             f"relative to the repository is written as it is ({url[7:]})")
        return RemoteURL("folder", unquote(parts.path))
    if "://" in url:
        scheme = url.split("://", 1)[0]
        if scheme.lower() in _SCHEMES[:5] and scheme != scheme.lower():
            raise UsageError(f"{url!r}: a scheme is lower case: write "
                             f"{scheme.lower()}://{url.split('://', 1)[1]}")
        raise UsageError(f"unsupported remote URL {url!r} (use a folder, file://, s3://, gs://, az:// or ssh://)")
    head, slashes, rest = url.partition("//")
    if slashes and head.lower() in _SCHEMES and rest:
        # `s3//bucket`: a scheme missing its colon, which a folder path takes as the folder s3/bucket
        # in the current one (before, `remote add` created it inside the work tree)
        scheme = head.lower()
        raise UsageError(f"{url!r} is not a {scheme}:// URL (its colon is missing): write {scheme}://{rest} "
                         f"(for a folder named '{head}', write ./{url})")
    m = _SCP.match(url)
    if m and not url.startswith(("/", ".", "~")) and "/" not in url.split(":", 1)[0]:
        if not m["user"] and m["host"].lower() in _SCHEMES:
            # `s3:/bucket`, `gs:bucket`: a scheme missing its slashes, not an SSH host named "s3"
            scheme, rest = m["host"].lower(), m["path"].lstrip("/")
            hint = {"ssh": "ssh://[USER@]HOST/PATH", "file": f"file:///{rest}"}.get(scheme, f"{scheme}://{rest}")
            raise UsageError(f"{url!r} is not a {scheme}:// URL: write {hint} "
                             f"(for an SSH host named '{m['host']}', write ssh://{m['host']}/PATH)")
        path = _home_relative(m["path"], url) if m["path"].startswith("~") else m["path"]
        return RemoteURL("ssh", path or ".", host=m["host"], user=m["user"])
    path = os.path.expanduser(url)
    if not os.path.isabs(path):
        path = os.path.join(base_dir or os.getcwd(), path)
    return RemoteURL("folder", os.path.normpath(path))


def _bucket_prefix(url: str, path: str) -> str:
    """The object prefix of a bucket URL: its outer slashes dropped (the backends ignore them);
    UsageError for a ``.`` or ``..`` segment or an inner ``//``. An object store keeps a key as
    typed (S3 stores ``a/../b/packs/...`` under the literal ``a/..``, which the console, the CLI
    and GCS's or Azure's libraries read, or refuse, each their own way), so the data would go where
    nobody would look for it; the user is told the spelling meant."""
    prefix = path.strip("/")
    segs = prefix.split("/")
    if prefix and any(s in ("", ".", "..") for s in segs):
        clean = posixpath.normpath(prefix)
        head = url[: url.index("://") + 3] + urlsplit(url).netloc
        meant = (f"write {head}/{clean}" if clean != "." else f"write {head}") if not \
            clean.startswith("..") else "'..' climbs out of the bucket"
        raise UsageError(f"{url!r}: an object prefix is a key name, taken literally: '.', '..' and "
                         f"'//' inside it would be stored as typed, not read as folders; {meant}")
    return prefix


def same_place(a: str, b: str) -> bool:
    """True when URLs ``a`` and ``b`` name the same place as ``open_remote`` reads them: spellings
    that differ only where the backend ignores it (``s3://b/p/`` and ``s3://b/p``; ``file:///x``,
    ``/x/`` and ``/x``; ``host:x`` and ``ssh://host/~/x``; an SSH host's case; repeated slashes
    in a path on a file system). Anything that could be another place stays different: another
    port (``ssh://h/x`` may use another than 22), user, account (an object prefix's inner ``//``
    does not parse). Relative folder paths are compared as written (against one base). A URL
    that does not parse is compared as text."""
    if a == b:
        return True
    # relative folder paths against a base no real path has (NUL), deeper than any ../ climbs
    base = "/" + "/".join(["\0"] * (1 + max(a.count(".."), b.count(".."))))
    try:
        ua, ub = parse(a, base_dir=base), parse(b, base_dir=base)
    except UsageError:
        return False
    return _canonical(ua) == _canonical(ub)


def _canonical(u: RemoteURL) -> RemoteURL:
    """``u`` with what its backend ignores taken out (parse already strips a bucket prefix's outer
    slashes, as the backends do, and normalizes a folder path other than file://'s)."""
    if u.scheme == "ssh":
        path = re.sub("/+", "/", u.path)
        return RemoteURL(u.scheme, path.rstrip("/") or path, u.host.lower(), u.user, u.port)
    if u.scheme == "folder":
        return RemoteURL(u.scheme, os.path.normpath(u.path))
    return u


def _home_relative(path: str, url: str) -> str:
    """``~/x`` or ``~`` as a path relative to the login folder (where SFTP starts).

    SFTP expands no ``~``: ``host:~/store``, which scp and git read as the home's ``store``, put
    the data in a folder named ``~`` inside the home, where ``host:store`` and ``ssh://host/~/store``
    never looked. ``~user`` (another user's home) cannot be found over SFTP: refused."""
    if path == "~" or path.startswith("~/"):
        return path[2:] or "."
    raise UsageError(f"{url!r}: SFTP cannot find another user's home ('{path.split('/', 1)[0]}'); "
                     "write the absolute path")


def open_remote(url: str, options: Mapping[str, str] | None = None, base_dir: str | None = None,
                name: str = "NAME", create_folder: bool = True) -> Remote:
    """The backend for ``url``; ``options`` are the remote's ``mlv-remote.NAME.*`` settings.
    ``create_folder=False``: a folder remote whose folder does not exist refuses writes
    (``FolderRemote.create_root``)."""
    opts = {k.lower(): v for k, v in (options or {}).items()}
    u = parse(url, base_dir)
    remote: Remote
    if u.scheme == "s3":
        from .s3 import S3Remote

        remote = S3Remote(u.host, u.path, opts)
    elif u.scheme == "gs":
        from .arrowfs import GCSRemote

        remote = GCSRemote(u.host, u.path, opts)
    elif u.scheme == "az":
        from .arrowfs import AzureRemote

        remote = AzureRemote(u.host, u.path, opts, account=u.user)
    elif u.scheme == "ssh":
        from .ssh import SSHRemote

        remote = SSHRemote(u.host, u.path, user=u.user, port=u.port, options=opts)
    else:
        from .local import FolderRemote

        remote = FolderRemote(u.path, create_root=create_folder, typed=url)
    remote.name = name
    return remote
