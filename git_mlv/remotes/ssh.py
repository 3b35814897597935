"""A remote on an SSH server, over SFTP (paramiko): no server-side software beyond sshd.

Honours ``~/.ssh/config`` (HostName, User, Port, IdentityFile, IdentitiesOnly, UserKnownHostsFile,
StrictHostKeyChecking, ProxyCommand, ProxyJump; Include lines: sshfiles.py), keys and the agent. Host keys
are checked against ``known_hosts``; an unknown host is rejected unless the user opts in with
``mlv-remote.NAME.acceptNewHostKey=true`` (then its key is appended, like OpenSSH's ``accept-new``).
A changed or ``@revoked`` host key is always rejected. paramiko is imported only when an SSH remote
is opened.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import socket
import stat
import threading
from collections.abc import Mapping
from typing import Any

from ..core.crashpoint import crashpoint
from . import sharemodes
from .base import (
    Data,
    ObjectInfo,
    Remote,
    RemoteError,
    RemoteNotFound,
    pieces_of,
    validate_name,
    validate_prefix,
)
from .sshfiles import jump_command, load_known_hosts, proxy_socket, read_config

# Feed writes in 1 MiB pieces: few Python calls, while paramiko pipelines the requests.
_WRITE_PIECE = 1024 * 1024
# paramiko sends SFTP requests of 32 KiB in SSH packets of 32 KiB: every request then spans two
# packets. OpenSSH takes requests up to 255 KiB; 128 KiB requests in 257 KiB packets measured here
# (128 MiB, loopback): put 143 -> 208-225 MB/s, get 113-130 -> 121-163 MB/s; OpenSSH's own sftp
# 159-179 MB/s. Other servers keep paramiko's defaults.
_OPENSSH_REQUEST = 128 * 1024
_OPENSSH_PACKET = 256 * 1024 + 1024


class _UnknownHost(Exception):
    pass


class _RevokedHost(Exception):
    pass


# what ``put`` writes before its rename: ``.tmp-<16 hex>-<the object's file name>``
_LEFTOVER = re.compile(r"\.tmp-[0-9a-f]{16}-([A-Za-z0-9][A-Za-z0-9._-]*)\Z")


class SSHRemote(Remote):
    """Objects are files under ``path`` on ``host``; ``put`` writes a temp file and renames it."""

    # One SSH connection, one SFTP channel per thread: a second channel overlaps round trips, more
    # only compete for the 2 cores paramiko's crypto needs (shared/notes/measured-here.md).
    parallelism = 2

    def __init__(self, host: str, path: str, user: str | None = None, port: int | None = None,
                 options: Mapping[str, str] | None = None) -> None:
        self.host = host
        self.user = user
        self.port = port
        self.root = path.rstrip("/") if path not in ("", "/") else path
        self.options = dict(options or {})
        where = f"{user}@{host}" if user else host
        # a relative path is in the login folder: said as git's ssh URLs say it (ssh://host/x is /x)
        shown = path.lstrip("/") if path.startswith("/") else "~" if path in ("", ".") else f"~/{path}"
        self.url = f"ssh://{where}{':' + str(port) if port else ''}/{shown}"
        self._lock = threading.Lock()
        self._client: Any = None
        self._generation = 0
        self._local = threading.local()
        self._request = 32 * 1024  # SFTP request size; raised for OpenSSH servers on connect
        self._leftovers: dict[str, list[str]] = {}  # list_staged's finds, for delete
        self._share: int | None = None  # the root's group bits (sharemodes), once a put looked

    # -- connection ----------------------------------------------------------------------------
    def _connect(self) -> Any:
        import paramiko

        # paramiko's transport thread logs a dropped connection ("Socket exception: Connection
        # reset by peer (104)") and, with no handler configured, Python printed it to stderr
        # beside our own line (or after a retry that succeeded); our errors say it once
        logging.getLogger("paramiko").addHandler(logging.NullHandler())

        cfg = self._ssh_config()
        hostname = cfg.get("hostname", self.host)
        port = int(self.port or cfg.get("port", 22))
        user = self.user or cfg.get("user") or _local_user()
        accept_new = _truthy(self.options.get("acceptnewhostkey")) or str(
            cfg.get("stricthostkeychecking", "")).lower() in ("accept-new", "no", "off")
        client = paramiko.SSHClient()
        # as OpenSSH: UserKnownHostsFile replaces ~/.ssh/known_hosts; the global file always counts
        known_files = [os.path.expanduser(p) for p in
                       cfg.get("userknownhostsfile", "~/.ssh/known_hosts").split() if p != "/dev/null"]
        revoked: set[tuple[str, str]] = set()
        for path in [*known_files, "/etc/ssh/ssh_known_hosts"]:
            if os.path.exists(path):
                revoked |= load_known_hosts(client, path)
        policy = _AcceptNewPolicy(known_files) if accept_new else _RejectPolicy()
        policy.revoked = revoked
        client.set_missing_host_key_policy(policy)
        keys = [os.path.expanduser(k) for k in cfg.get("identityfile", [])]
        if self.options.get("identityfile"):
            keys = [os.path.expanduser(self.options["identityfile"])]
            if not os.path.exists(keys[0]):  # else no key at all was offered, and we said nothing
                raise RemoteError(f"{self.url}: identity file {keys[0]} does not exist; fix git "
                                  f"config mlv-remote.{self.name}.identityFile")
        only = bool(self.options.get("identityfile")) or str(cfg.get("identitiesonly", "")).lower() == "yes"
        keys = [k for k in keys if os.path.exists(k)]
        sock = self._socket(hostname, port, cfg)
        try:
            client.connect(
                hostname, port=port, username=user, sock=sock, key_filename=keys or None,
                look_for_keys=not only, allow_agent=True, timeout=15, banner_timeout=15,
                auth_timeout=15,
            )
        except BaseException as e:
            # asked before the close, which ends the command (its exit would then say nothing)
            failed = sock.failure() if hasattr(sock, "failure") and isinstance(e, Exception) else None
            client.close()
            with contextlib.suppress(OSError):  # a proxy command reaped above cannot be killed
                sock.close()
            if failed:  # the proxy command's own words say more than paramiko's "banner" error
                transient = any(w in failed.lower() for w in ("timed out", "refused", "reset", "no route",
                                                              "temporary failure", "closed by"))
                raise RemoteError(f"{self.url}: the proxy command failed ({failed}): "
                                  f"{' '.join(sock.cmd)}", retryable=transient) from None
            raise
        transport = client.get_transport()
        if "openssh" in (transport.remote_version or "").lower():
            transport.default_max_packet_size = _OPENSSH_PACKET  # for the channels opened from now on
            self._request = _OPENSSH_REQUEST
        return client

    def _ssh_config(self) -> dict[str, Any]:
        return read_config(self.host)

    def _socket(self, hostname: str, port: int, cfg: Mapping[str, Any]) -> Any:
        proxy = cfg.get("proxycommand")
        jump = str(cfg.get("proxyjump") or "")
        if (not proxy or proxy.lower() == "none") and jump and jump.lower() != "none":
            proxy = jump_command(jump, hostname, port)  # paramiko knows no ProxyJump
        if proxy and proxy.lower() != "none":
            try:
                return proxy_socket(proxy)
            except OSError as e:  # ENOENT read as "connection does not exist" further up
                raise RemoteError(f"{self.url}: cannot run the proxy command {proxy!r}: "
                                  f"{e.strerror or e}") from None
        sock = socket.create_connection((hostname, port), timeout=15)
        # paramiko leaves Nagle on: every SFTP request then waits for the previous ACK and
        # throughput falls from 60-90 MB/s to 1-5 MB/s (shared/notes/measured-here.md).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _sftp(self) -> Any:
        """This thread's SFTP channel, (re)connecting when needed."""
        loc = self._local
        if getattr(loc, "generation", -1) == self._generation and loc.sftp is not None:
            return loc.sftp
        try:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
                client, gen = self._client, self._generation
            sftp = client.open_sftp()
        except RemoteError:
            raise
        except Exception as e:
            raise self._error(e, "connection") from None
        loc.sftp, loc.generation = sftp, gen
        return sftp

    def _reset(self) -> None:
        """Drop a broken connection so the next call reconnects."""
        with self._lock:
            if self._client is not None:
                try:
                    self._client.close()
                except Exception:
                    pass
                self._client = None
            self._generation += 1

    def _connected(self) -> bool:
        """True while the SSH transport is up (paramiko says "Socket is closed" with no errno)."""
        client = self._client
        transport = client.get_transport() if client is not None else None
        return bool(transport is not None and transport.is_active())

    def close(self) -> None:
        """Close the SSH connection."""
        self._reset()

    # -- errors --------------------------------------------------------------------------------
    def _error(self, e: BaseException, what: str) -> RemoteError:
        import paramiko

        if isinstance(e, RemoteError):
            return e
        if isinstance(e, _UnknownHost):
            return RemoteError(
                f"{self.url}: host key of {e} is not in known_hosts; connect once with ssh to check "
                f"and accept it, or set git config mlv-remote.{self.name}.acceptNewHostKey true"
            )
        if isinstance(e, _RevokedHost):
            return RemoteError(f"{self.url}: the host key of {e} is marked @revoked in known_hosts; "
                               "not connecting")
        if isinstance(e, paramiko.BadHostKeyException):
            return RemoteError(
                f"{self.url}: HOST KEY CHANGED for {e.hostname} (possible man-in-the-middle); "
                "fix known_hosts if the change is expected"
            )
        if isinstance(e, paramiko.PasswordRequiredException):
            return RemoteError(f"{self.url}: the SSH key needs a passphrase; add it to ssh-agent")
        if isinstance(e, paramiko.SSHException) and "No authentication methods available" in str(e):
            # paramiko had no key to offer (none in ~/.ssh, none named, no agent): not a dropped
            # connection, and no retry finds one
            return RemoteError(
                f"{self.url}: no SSH key to offer (no ~/.ssh/id_* key, no IdentityFile for "
                f"{self.host!r} in ~/.ssh/config, no ssh-agent); set git config "
                f"mlv-remote.{self.name}.identityFile PATH or add a key to ssh-agent")
        if isinstance(e, paramiko.AuthenticationException):
            why = str(e).rstrip(".")
            return RemoteError(f"{self.url}: permission denied (publickey): {why}; check your keys or agent")
        if isinstance(e, socket.gaierror):
            return RemoteError(f"{self.url}: cannot resolve host {self.host!r}")
        if isinstance(e, OSError) and not isinstance(e, ConnectionError | TimeoutError):
            # paramiko turns SFTP status codes into IOError: ENOENT, EACCES, or no errno for the
            # generic SSH_FX_FAILURE (disk full, rename refused...), which a retry does not fix.
            if e.errno == errno.ENOENT:
                return RemoteNotFound(f"{self.url}: {what} does not exist")
            if e.errno in (errno.EACCES, errno.EPERM):
                return RemoteError(f"{self.url}: permission denied on {what}")
            if e.errno is None and self._connected():
                if str(e) == "Failure":  # OpenSSH's answer for EROFS, ENOSPC, EDQUOT, EEXIST...
                    return RemoteError(f"{self.url}: the server failed the request on {what} (SFTP "
                                       "'Failure'; for a push: is its file system read-only, full or "
                                       "over quota?); check on the server, then run the command again")
                return RemoteError(f"{self.url}: {what}: {e}")
        # connection refused/reset/dropped, timeouts, protocol errors: a new connection may work
        self._reset()
        return RemoteError(f"{self.url}: connection failed: {type(e).__name__}: {e}", retryable=True)

    def _do(self, what: str, fn: Any) -> Any:
        try:
            return fn(self._sftp())
        except RemoteError:
            raise
        except (Exception, EOFError) as e:
            raise self._error(e, what) from None

    def _path(self, name: str) -> str:
        name = validate_name(name)
        return f"{self.root}/{name}" if self.root else name

    # -- the interface -------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        """stat the file."""
        try:
            self._do(name, lambda s: s.stat(self._path(name)))
            return True
        except RemoteNotFound:
            return False

    def _open(self, sftp: Any, path: str, mode: str) -> Any:
        f = sftp.open(path, mode)
        f.MAX_REQUEST_SIZE = self._request  # an instance attribute: paramiko reads it per call
        return f

    def _read(self, f: Any, offset: int, length: int) -> bytes:
        """Read with pipelined requests of one request size each: paramiko's ``read`` of a large
        size concatenates its buffer over and over (0.7 MB/s for 128 MiB in one call)."""
        step = self._request
        pieces = [(o, min(step, offset + length - o)) for o in range(offset, offset + length, step)]
        return b"".join(f.readv(pieces)) if pieces else b""

    def get(self, name: str) -> bytes:
        """Read the whole file."""
        def read(s: Any) -> bytes:
            with self._open(s, self._path(name), "rb") as f:
                return self._read(f, 0, f.stat().st_size)

        return self._do(name, read)

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """Read a range (fewer bytes when the file ends first)."""
        if length <= 0:
            return b""

        def read(s: Any) -> bytes:
            with self._open(s, self._path(name), "rb") as f:
                size = f.stat().st_size
                return self._read(f, offset, max(0, min(length, size - offset)))

        return self._do(name, read)

    def put(self, name: str, data: Data) -> None:
        """Pipelined write to a temp file, then an atomic rename over the target."""
        path = self._path(name)
        folder = path.rsplit("/", 1)[0] if "/" in path else "."
        # hidden from listings; named after its object, so that gc --remote finds what a push
        # killed mid-write left (list_staged)
        tmp = f"{folder}/.tmp-{secrets.token_hex(8)}-{path.rsplit('/', 1)[-1]}"

        def write(s: Any) -> None:
            if self._share is None:
                self._share = sharemodes.share_bits(s, self.root)
            try:
                f = self._open(s, tmp, "wb")
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise
                _makedirs(s, folder, self._share)
                f = self._open(s, tmp, "wb")
            try:
                with f:
                    f.set_pipelined(True)
                    written = 0
                    for piece in pieces_of(data, _WRITE_PIECE):
                        f.write(piece)
                        written += len(piece)
                    f.flush()
                    _check_writes(s, f, tmp)
                    crashpoint("ssh-put-written")
                    st = f.stat()
                    size = st.st_size
                    if size != written:
                        raise OSError(f"the server holds {size} of the {written} bytes written to "
                                      f"{tmp}: is its disk full or over quota?")
                    sharemodes.widen_file(f, st.st_mode or 0, self._share)
                try:
                    s.posix_rename(tmp, path)
                except OSError:
                    _replace(s, tmp, path)
            except BaseException:
                try:
                    s.remove(tmp)
                except Exception:
                    pass
                raise

        self._do(name, write)

    def list_info(self, prefix: str) -> dict[str, ObjectInfo]:
        """Regular files directly under ``prefix``."""
        folder = self._path_prefix(validate_prefix(prefix))

        def ls(s: Any) -> dict[str, ObjectInfo]:
            try:
                entries = s.listdir_attr(folder)
            except OSError as e:
                if e.errno == errno.ENOENT:
                    return {}
                raise
            return {prefix + a.filename: ObjectInfo(int(a.st_size or 0), float(a.st_mtime or 0))
                    for a in entries if not a.filename.startswith(".") and stat.S_ISREG(a.st_mode or 0)}

        return self._do(prefix, ls)

    def list_staged(self, prefix: str) -> dict[str, ObjectInfo]:
        """Temp files a ``put`` killed before its rename left under ``prefix``, by the names of
        their objects (the newest one's size and time); ``delete(name)`` removes them."""
        folder = self._path_prefix(validate_prefix(prefix))

        def ls(s: Any) -> list[Any]:
            try:
                return list(s.listdir_attr(folder))
            except OSError as e:
                if e.errno == errno.ENOENT:
                    return []
                raise

        out: dict[str, ObjectInfo] = {}
        for a in self._do(prefix, ls):
            m = _LEFTOVER.match(a.filename)
            if m is None or not stat.S_ISREG(a.st_mode or 0):
                continue
            name = prefix + m.group(1)
            self._leftovers.setdefault(name, []).append(f"{folder}/{a.filename}")
            info = ObjectInfo(int(a.st_size or 0), float(a.st_mtime or 0))
            if name not in out or info.mtime > out[name].mtime:
                out[name] = info
        return out

    def _path_prefix(self, prefix: str) -> str:
        return f"{self.root}/{prefix.rstrip('/')}" if self.root else prefix.rstrip("/")

    def delete(self, name: str) -> None:
        """Remove the file if present, and the temp files ``list_staged`` found for it."""
        for path in [self._path(name), *self._leftovers.pop(name, [])]:
            try:
                self._do(name, lambda s, p=path: s.remove(p))  # type: ignore[misc]
            except RemoteNotFound:
                pass


def _check_writes(sftp: Any, f: Any, tmp: str) -> None:
    """Read the reply to every pipelined write still unanswered; OSError on an error status.

    paramiko (5.1) files a pipelined write's reply under no file object and, when the file is
    closed, neither waits for those replies nor looks at them: a server that failed the writes
    (OpenSSH's SSH_FX_FAILURE for a full disk) went unnoticed, the push uploaded empty packs,
    its index consolidation then deleted the indexes they replaced, and it said all was pushed.
    A reply read (and dropped) while paramiko waited for another one is no longer expected; the
    size check after this catches what it might have said."""
    while f._reqs:
        num = f._reqs.popleft()
        if num in sftp._expecting:
            try:
                sftp._read_response(num)  # raises IOError for an error status
            except OSError as e:
                if e.errno is not None:
                    raise
                raise OSError(f"the server failed a write to {tmp} ({e}): is its disk full or over "
                              "quota?") from None


def _makedirs(sftp: Any, folder: str, share: int) -> None:
    """Make ``folder`` and its parents; those made get the root's group bits (sharemodes)."""
    parts = folder.split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        if not sub:
            continue
        try:
            sftp.mkdir(sub)
        except OSError:
            continue  # exists already (or the next open reports the real problem)
        sharemodes.widen_folder(sftp, sub, share)


def _replace(sftp: Any, tmp: str, path: str) -> None:
    """Rename for servers without the posix-rename extension (not atomic: remove, then rename)."""
    try:
        sftp.remove(path)
    except OSError:
        pass
    sftp.rename(tmp, path)


def _truthy(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _local_user() -> str:
    import getpass

    return getpass.getuser()


def _make_policies() -> tuple[type, type]:
    import paramiko

    class Reject(paramiko.MissingHostKeyPolicy):
        revoked: set[tuple[str, str]] = set()

        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            if (key.get_name(), key.get_base64()) in self.revoked:
                raise _RevokedHost(hostname)
            raise _UnknownHost(hostname)

    class AcceptNew(Reject):
        def __init__(self, files: list[str]) -> None:
            self.path = files[0] if files else os.path.expanduser("~/.ssh/known_hosts")

        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            if (key.get_name(), key.get_base64()) in self.revoked:
                raise _RevokedHost(hostname)
            client.get_host_keys().add(hostname, key.get_name(), key)
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:  # append: never rewrite the user's file
                f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")

    return Reject, AcceptNew


def _RejectPolicy() -> Any:  # noqa: N802 - a factory standing in for a class built on import
    return _make_policies()[0]()


def _AcceptNewPolicy(files: list[str]) -> Any:  # noqa: N802
    return _make_policies()[1](files)
