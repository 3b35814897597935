"""An SSH remote behind a bastion: ``ProxyJump`` in ~/.ssh/config, and a proxy command that fails.

Regressions: paramiko ignores ProxyJump, so the remote was dialled directly (behind a bastion: a
timeout per try, then "connection failed"). And a ProxyCommand that exited at once (an unknown
jump host) cost paramiko's banner timeout, 15 s of a busy loop, per try, then said only "Error
reading SSH protocol banner"; it now fails in one line with the command's own words.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import git, mlv
from tests.remotes.servers import SSHServer, free_port
from tests.remotes.test_faults import commit_data, one_error
from tests.remotes.test_trial_ssh_setup import ssh_config  # noqa: F401 - a fixture


@pytest.fixture
def jumpd(tmp_path: Path, sshd: SSHServer) -> Iterator[SSHServer]:
    """An sshd of its own that logs each forwarding it is asked for (LogLevel DEBUG1)."""
    server = SSHServer(tmp_path / "jumpd")
    server.config.write_text(server.config.read_text().replace("LogLevel ERROR", "LogLevel DEBUG1"))
    home = Path(os.environ["HOME"])
    (server.root / "authorized_keys").write_text((home / ".ssh" / "id_ed25519.pub").read_text())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_proxy_jump_goes_through_the_jump_host(repo: Path, tmp_path: Path, jumpd: SSHServer,
                                               ssh_config: Path) -> None:  # noqa: F811
    known = tmp_path / "known_hosts"
    known.write_text(jumpd.known_hosts_line())
    key = Path(os.environ["HOME"]) / ".ssh" / "id_ed25519"
    common = f"  HostName 127.0.0.1\n  Port {jumpd.port}\n  User {jumpd.user}\n  IdentityFile {key}\n" \
             f"  UserKnownHostsFile {known}\n"
    ssh_config.write_text(f"Host bastion\n{common}Host box\n{common}  ProxyJump bastion\n")
    mlv("remote", "add", "store", f"box:{tmp_path}/store", "--default", cwd=repo)
    files = commit_data(repo, n=2)
    mlv("push", "-q", cwd=repo)
    deadline = time.monotonic() + 5  # sshd writes its log as it goes
    while "direct-tcpip" not in jumpd.log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"target 127.0.0.1 port {jumpd.port}" in jumpd.log.read_text(errors="replace")
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    mlv("pull", "-q", cwd=clone)
    for path, data in files.items():
        assert (clone / path).read_bytes() == data


def test_a_failing_jump_is_one_line_at_once(repo: Path, tmp_path: Path, sshd: SSHServer,
                                            ssh_config: Path) -> None:  # noqa: F811
    # the jump host is a port nothing listens on (no DNS lookup: the suite talks to 127.0.0.1 only;
    # -F: OpenSSH reads the passwd entry's ~/.ssh/config, not $HOME's)
    ssh_config.write_text(f"Host box\n  HostName 127.0.0.1\n  Port {sshd.port}\n"
                          f"  ProxyCommand ssh -F {ssh_config} -o BatchMode=yes -W %h:%p no-such-bastion\n"
                          f"Host no-such-bastion\n  HostName 127.0.0.1\n  Port {free_port()}\n")
    mlv("remote", "add", "store", f"box:{tmp_path}/store", "--default", cwd=repo)
    commit_data(repo, n=1)
    start = time.monotonic()
    one_error(mlv("push", cwd=repo, check=False), "proxy command failed", "connection refused")
    assert time.monotonic() - start < 10  # paramiko alone: 15 s per try


def test_a_key_refused_behind_the_jump_is_not_blamed_on_the_jump(repo: Path, tmp_path: Path,
                                                                 jumpd: SSHServer,
                                                                 ssh_config: Path) -> None:  # noqa: F811
    """The jump worked and the target refused the key: fe9a1c3 closed the proxy before asking it
    how it ended, and said "the proxy command failed (exit 0)"."""
    known = tmp_path / "known_hosts"
    known.write_text(jumpd.known_hosts_line())
    key = Path(os.environ["HOME"]) / ".ssh" / "id_ed25519"
    common = f"  HostName 127.0.0.1\n  Port {jumpd.port}\n  User {jumpd.user}\n  UserKnownHostsFile {known}\n"
    ssh_config.write_text(f"Host bastion\n{common}  IdentityFile {key}\n"
                          f"Host box\n{common}  ProxyJump bastion\n")
    mlv("remote", "add", "store", f"box:{tmp_path}/store", "--default", cwd=repo)
    mlv("remote", "modify", "store", "identityFile", str(jumpd.other_key), cwd=repo)
    commit_data(repo, n=1)
    line = one_error(mlv("push", cwd=repo, check=False), "permission denied")
    assert "proxy command" not in line


def test_a_proxy_command_that_cannot_run_is_named(repo: Path, tmp_path: Path, sshd: SSHServer,
                                                  ssh_config: Path) -> None:  # noqa: F811
    """Popen's ENOENT was read as an SFTP 'no such file': "connection does not exist"."""
    ssh_config.write_text(f"Host box\n  HostName 127.0.0.1\n  Port {sshd.port}\n"
                          "  ProxyCommand no-such-proxy-binary %h %p\n")
    mlv("remote", "add", "store", f"box:{tmp_path}/store", "--default", cwd=repo)
    commit_data(repo, n=1)
    line = one_error(mlv("push", cwd=repo, check=False), "cannot run the proxy command",
                     "no-such-proxy-binary")
    assert "does not exist" not in line
