"""The OpenSSH client files an SSH remote reads, read as OpenSSH reads them: ``~/.ssh/config`` with
its ``Include`` lines, and ``known_hosts`` with its marker lines. paramiko's own readers do
neither (ssh.py uses these instead); paramiko is imported only when an SSH remote is opened.
"""

from __future__ import annotations

import glob
import os
import shlex
from typing import Any

from .base import RemoteError

# OpenSSH's READCONF_MAX_DEPTH: deeper Includes (a file including itself) are an error there too
_MAX_DEPTH = 16


def read_config(host: str) -> dict[str, Any]:
    """The settings ``~/.ssh/config`` gives ``host`` (lower-case keys, paramiko's lookup)."""
    import paramiko

    path = os.path.expanduser("~/.ssh/config")
    if not os.path.exists(path):
        return {}
    text = _expanded(path, 0)
    try:
        return dict(paramiko.SSHConfig.from_text(text).lookup(host))
    except Exception as e:  # a broken config should say where it is broken
        raise RemoteError(f"{path}: cannot parse: {e}") from None


def _expanded(path: str, depth: int) -> str:
    """``path``'s text with each ``Include`` line replaced by the files it names.

    paramiko ignores ``Include`` (it read it as an unknown keyword), so a Host alias defined in an
    included file (``Include config.d/*``, a common way to keep hosts in files of their own)
    was unknown: "cannot resolve host 'box'" where ``ssh box`` works. As OpenSSH: relative paths
    are relative to ``~/.ssh``, ``~`` and globs are expanded (matches in sorted order), a missing
    file is no error. The included text is put in place of the line: an ``Include`` inside a
    ``Host`` block whose file has ``Host`` lines of its own then leaves the lines after it in the
    file's last block, where OpenSSH goes back to the enclosing one (rare; said here)."""
    if depth > _MAX_DEPTH:
        raise RemoteError(f"{path}: Include nested more than {_MAX_DEPTH} deep (does a file include itself?)")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise RemoteError(f"{path}: cannot read: {e.strerror or e}") from None
    out: list[str] = []
    for line in lines:
        words = line.strip().replace("=", " ", 1).split(None, 1)
        if len(words) == 2 and words[0].lower() == "include":
            try:
                names = shlex.split(words[1])
            except ValueError:
                raise RemoteError(f"{path}: cannot parse: {line.strip()}") from None
            for name in names:
                name = os.path.expanduser(name)
                if not os.path.isabs(name):
                    name = os.path.join(os.path.expanduser("~/.ssh"), name)
                for match in sorted(glob.glob(name)):
                    if os.path.isfile(match):
                        out.append(_expanded(match, depth + 1))
            continue
        out.append(line)
    return "\n".join(out)


def load_known_hosts(client: Any, path: str) -> set[tuple[str, str]]:
    """Add ``path``'s host keys to ``client``; return the keys marked ``@revoked`` there.

    paramiko's own loader takes a marker line (``@cert-authority``, ``@revoked``) for a host named
    ``@cert-authority`` and fails the whole file on it, so an SSH remote could not be used at all
    where OpenSSH works. As OpenSSH: lines it cannot read are skipped, ``@cert-authority`` lines
    too (paramiko checks no host certificates: such a host is then not known, and says so), and
    a revoked key is refused even when another line lists it."""
    import binascii

    from paramiko.hostkeys import HostKeyEntry

    entries: list[Any] = []
    revoked: set[tuple[str, str]] = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise RemoteError(f"{path}: cannot read known hosts: {e.strerror or e}") from None
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        marker = ""
        if line.startswith("@"):
            marker, _, line = line.partition(" ")
            line = line.strip()
        if not line or line.startswith("#") or marker == "@cert-authority":
            continue
        try:
            entry = HostKeyEntry.from_line(line, n)
        except (Exception, binascii.Error):  # a damaged line: OpenSSH skips it too
            continue
        if entry is None:  # a key type paramiko does not know
            continue
        if marker == "@revoked":
            revoked.add((entry.key.get_name(), entry.key.get_base64()))
        elif not marker:
            entries.append(entry)
    keys = client._system_host_keys  # where load_system_host_keys puts them, as paramiko's load does
    for entry in entries:
        if (entry.key.get_name(), entry.key.get_base64()) in revoked:
            continue
        entry.hostnames = [h for h in entry.hostnames if not keys.check(h, entry.key)]
        if entry.hostnames:
            keys._entries.append(entry)
    return revoked


def jump_command(jump: str, host: str, port: int) -> str:
    """The ``ssh -W`` command that reaches ``host:port`` through ``ProxyJump`` hosts, as OpenSSH's
    ProxyJump does. paramiko ignores ProxyJump: a remote behind a bastion was dialled directly
    (a timeout per try, then "connection failed"), or, worse, some other host of that name.

    ``jump`` is OpenSSH's list ``[user@]host[:port][,...]`` (or ``ssh://`` URIs); the ssh client
    reads the same ``~/.ssh/config`` (``-F``) for the jump hosts' own settings, in batch mode:
    nothing can answer a prompt here."""
    hops = [h.strip() for h in jump.split(",") if h.strip()]
    last = _destination(hops[-1])
    config = os.path.expanduser("~/.ssh/config")
    args = ["ssh", *(["-F", config] if os.path.exists(config) else []), "-o", "BatchMode=yes",
            *(["-J", ",".join(hops[:-1])] if len(hops) > 1 else []),
            "-W", f"[{host}]:{port}" if ":" in host else f"{host}:{port}", last]
    return shlex.join(args)


def _destination(hop: str) -> str:
    """``user@host:port`` as ssh takes a destination (``ssh://user@host:port``; a bare ``host:port``
    would be read as a host name)."""
    if hop.startswith("ssh://") or ":" not in hop.rsplit("@", 1)[-1]:
        return hop
    return f"ssh://{hop}"


def proxy_socket(command: str) -> Any:
    """paramiko's ProxyCommand, except that the command's exit reads as a closed connection.

    paramiko's ``recv`` loops on an ended pipe until its timeout: a proxy that failed at once (an
    unknown jump host, a refused key) cost the banner timeout (15 s) per try, then said only "Error
    reading SSH protocol banner". ``failure()`` gives the command's own last words."""
    import select

    import paramiko

    class Proxy(paramiko.ProxyCommand):  # type: ignore[misc]
        def recv(self, size: int) -> bytes:
            ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
            if not ready:
                raise TimeoutError()
            return os.read(self.process.stdout.fileno(), size)  # b"" at the end: EOF upstream

        def failure(self) -> str | None:
            """The command's exit and last line of stderr when it failed; None while it runs (the
            failure was past it: a key the target refused) or when it exited cleanly."""
            try:
                code = self.process.wait(0.5)
            except Exception:  # still running
                return None
            if code == 0:
                return None
            err = self.process.stderr.read().decode(errors="replace").strip().splitlines()
            return f"exit {code}" + (f": {err[-1].strip()}" if err else "")

    return Proxy(command)
