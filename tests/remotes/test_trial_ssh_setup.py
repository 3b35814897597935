"""SSH remotes set up as users do: a Host alias in ~/.ssh/config (or a file it includes), a key
named there or through `remote modify NAME identityFile`, and what a user sees when no key can be
offered.

Regression: with no key to offer (none in ~/.ssh, IdentitiesOnly with no IdentityFile, no agent,
or an identityFile setting naming a file that is not there), paramiko's "No authentication
methods available" was taken for a dropped connection: retried for ~3 s, then reported as
"connection failed: SSHException: ...", which sends the user looking at the network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from git_mlv.errors import UsageError
from git_mlv.remotes.url import open_remote, parse
from tests.helpers import git, mlv
from tests.remotes.servers import SSHServer
from tests.remotes.test_faults import commit_data, one_error


@pytest.fixture
def ssh_config(sshd: SSHServer) -> Iterator[Path]:
    """The session HOME's ~/.ssh/config, removed afterwards (other tests read the same HOME)."""
    path = Path(os.environ["HOME"]) / ".ssh" / "config"
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def test_a_host_alias_with_port_user_and_key_pushes(repo: Path, tmp_path: Path, sshd: SSHServer,
                                                    ssh_config: Path) -> None:
    ssh_config.write_text(f"Host box\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
                          f"  IdentityFile {sshd.client_key}\n  IdentitiesOnly yes\n")
    mlv("remote", "add", "store", f"box:{tmp_path}/store/new/deep", "--default", cwd=repo)
    files = commit_data(repo, n=2)
    mlv("push", "-q", cwd=repo)  # the folder is created on the server
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    mlv("pull", "-q", cwd=clone)
    for path, data in files.items():
        assert (clone / path).read_bytes() == data


def test_no_key_to_offer_is_one_line_not_a_connection_failure(repo: Path, tmp_path: Path,
                                                              sshd: SSHServer, ssh_config: Path) -> None:
    ssh_config.write_text(f"Host nokey\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
                          "  IdentitiesOnly yes\n")
    mlv("remote", "add", "store", f"nokey:{tmp_path}/store", "--default", cwd=repo)
    commit_data(repo, n=1)
    line = one_error(mlv("push", cwd=repo, check=False), "no SSH key to offer",
                     "mlv-remote.store.identityFile")
    assert "connection failed" not in line
    assert not (repo / ".git" / "mlv" / "remotes" / "store" / "verified").exists()


def test_an_identity_file_that_is_not_there_is_named(repo: Path, tmp_path: Path, sshd: SSHServer) -> None:
    mlv("remote", "add", "store", f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{tmp_path}/store", "--default",
        cwd=repo)
    mlv("remote", "modify", "store", "identityFile", str(tmp_path / "no-such-key"), cwd=repo)
    commit_data(repo, n=1)
    line = one_error(mlv("push", cwd=repo, check=False), str(tmp_path / "no-such-key"), "does not exist",
                     "mlv-remote.store.identityFile")
    assert "connection failed" not in line


def test_a_host_alias_in_an_included_file(repo: Path, tmp_path: Path, sshd: SSHServer,
                                          ssh_config: Path) -> None:
    """paramiko ignores `Include`: an alias defined in an included file was "cannot resolve host"."""
    included = ssh_config.parent / "mlv-trial.d"
    included.mkdir()
    try:
        (included / "10-box").write_text(f"Host box\n  HostName 127.0.0.1\n  Port {sshd.port}\n")
        (tmp_path / "user").write_text(f"Host box\n  User {sshd.user}\n  IdentityFile {sshd.client_key}\n")
        ssh_config.write_text(f"Include mlv-trial.d/*\nInclude {tmp_path / 'user'} {tmp_path / 'absent'}\n\n"
                              "Host *\n  ServerAliveInterval 30\n")
        mlv("remote", "add", "store", f"box:{tmp_path}/store", "--default", cwd=repo)
        commit_data(repo, n=1)
        mlv("push", "-q", cwd=repo)
        assert (tmp_path / "store" / "packs").is_dir()
        ssh_config.write_text("Include config\n")  # includes itself: an error, as OpenSSH's
        one_error(mlv("push", cwd=repo, check=False), "Include nested")
    finally:
        shutil.rmtree(included)


@pytest.mark.parametrize("url", ["box:~/store", "me@box:~/store", "ssh://box/~/store", "box:store"])
def test_a_tilde_is_the_login_folder_as_for_scp_and_git(url: str) -> None:
    """SFTP expands no `~`: `host:~/store` put the data in a folder named `~` in the home, where
    `host:store` and `ssh://host/~/store` never looked. The URL shown says where it is."""
    got = parse(url)
    assert got.path == "store"
    assert open_remote(url).url.endswith("box/~/store")  # ssh://box/store would be /store


def test_another_users_home_is_refused_in_one_line(repo: Path) -> None:
    with pytest.raises(UsageError):
        parse("box:~bob/store")
    one_error(mlv("remote", "add", "store", "ssh://box/~bob/store", cwd=repo, check=False),
              "another user's home", "absolute path")


def test_a_tilde_path_lands_in_the_login_folder(repo: Path, sshd: SSHServer, ssh_config: Path) -> None:
    """Against the real server: the folder is made in the sshd user's home, not in '~' there."""
    home = Path(os.path.expanduser(f"~{sshd.user}"))
    name = f"mlv-trial-{os.getpid()}-{id(repo)}"
    ssh_config.write_text(f"Host box\n  HostName 127.0.0.1\n  Port {sshd.port}\n")
    try:
        mlv("remote", "add", "store", f"{sshd.user}@box:~/{name}", "--default", cwd=repo)
        commit_data(repo, n=1)
        mlv("push", "-q", cwd=repo)
        assert (home / name / "packs").is_dir()
        assert not (home / "~" / name).exists()
    finally:
        shutil.rmtree(home / name, ignore_errors=True)
        shutil.rmtree(home / "~" / name, ignore_errors=True)  # where the old code put it
