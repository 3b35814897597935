"""known_hosts files as OpenSSH users have them: marker lines (`@cert-authority` for a fleet's host
certificates, `@revoked` for retired keys) beside plain ones.

Regression: paramiko's loader read `@cert-authority *.corp ssh-ed25519 KEY` as a host named
"@cert-authority" with key type "*.corp", failed on the key, and every SSH remote failed with
"cannot read known hosts: ... Incorrect padding" where `ssh` and `sftp` worked. Now marker lines
are read as OpenSSH reads them: a CA line is skipped (paramiko checks no host certificates), a
revoked key is refused even where another line lists it, and acceptNewHostKey never accepts it.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import mlv
from tests.remotes.servers import SSHServer
from tests.remotes.test_faults import commit_data, one_error
from tests.remotes.test_trial_ssh_setup import ssh_config  # noqa: F401 - a fixture


def _alias(config: Path, sshd: SSHServer, known: Path) -> None:
    config.write_text(f"Host box\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
                      f"  UserKnownHostsFile {known}\n")


def _key(pub: Path) -> str:
    return " ".join(pub.read_text().split()[:2])


def test_marker_lines_do_not_break_known_hosts(repo: Path, tmp_path: Path, sshd: SSHServer,
                                               ssh_config: Path) -> None:  # noqa: F811
    known = tmp_path / "known_hosts"
    stranger = _key(Path(f"{sshd.other_key}.pub"))
    known.write_text(f"# fleet CA and a retired key\n@cert-authority *.corp.example {stranger}\n"
                     f"@revoked * {stranger}\n{sshd.known_hosts_line()}")
    _alias(ssh_config, sshd, known)
    mlv("remote", "add", "store", f"box:{tmp_path}/store", "--default", cwd=repo)
    commit_data(repo, n=1)
    mlv("push", "-q", cwd=repo)


def test_a_revoked_host_key_is_refused_even_when_listed_or_accept_new(
        repo: Path, tmp_path: Path, sshd: SSHServer, ssh_config: Path) -> None:  # noqa: F811
    known = tmp_path / "known_hosts"
    known.write_text(f"@revoked * {_key(Path(f'{sshd.host_key}.pub'))}\n{sshd.known_hosts_line()}")
    _alias(ssh_config, sshd, known)
    mlv("remote", "add", "store", f"box:{tmp_path}/store", "--default", cwd=repo)
    commit_data(repo, n=1)
    one_error(mlv("push", cwd=repo, check=False), "revoked", "not connecting")
    known.write_text(f"@revoked * {_key(Path(f'{sshd.host_key}.pub'))}\n")
    mlv("remote", "modify", "store", "acceptNewHostKey", "true", cwd=repo)
    one_error(mlv("push", cwd=repo, check=False), "revoked", "not connecting")
    assert known.read_text().count("\n") == 1  # nothing appended
    assert not (tmp_path / "store" / "packs").exists()
