"""A data remote whose disk fills up during a push (SFTP and folder remotes on a small tmpfs, as
root: CI runs as root): the push fails with one line naming the remote and what to do, leaves the
remote consistent, and a rerun after space is freed sends the rest; a clone then gets exact bytes.

Regression (SFTP): paramiko drops the replies to pipelined writes, so the server's failure status
(disk full) went unseen: the push said "pushed data of 17 file(s)", left empty and truncated packs,
an empty midx, and its index consolidation deleted the indexes that midx replaced; a clone got
nothing ("index is damaged"). Folder: the error advised `git mlv gc`, which frees the local pool.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write
from tests.remotes.servers import SSHServer


def _fill_and_rerun(repo: Path, tmp_path: Path, mnt: Path, url: str) -> str:
    """Push 3 MiB to a remote on the 1 MiB ``mnt``: the failed push's stderr. Then grow the file
    system, push again and check a clone's bytes."""
    names = [f"f{i}.bin" for i in range(12)]
    for i, name in enumerate(names):
        write(repo / name, random_bytes(256_000, seed=300 + i))
    git("config", "mlv.remoteRetries", "2", cwd=repo)
    mlv("remote", "add", "full", url, "--default", cwd=repo)
    commit_all(repo, "data")
    proc = mlv("push", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode != 0, err
    assert "pushed data of" not in err and "Traceback" not in err, err

    subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
    mlv("push", cwd=repo)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    for name in names:
        assert sha256_file(clone / name) == sha256_file(repo / name), name
    return err


def test_sftp_remote_disk_full(repo: Path, tmp_path: Path, sshd: SSHServer, small_fs: Path) -> None:
    err = _fill_and_rerun(repo, tmp_path, small_fs,
                          f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{small_fs}/store")
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "disk full" in lines[0] and "packs/" in lines[0], err


def test_folder_remote_disk_full_names_the_remote_not_the_pool(repo: Path, tmp_path: Path,
                                                                small_fs: Path) -> None:
    (small_fs / "store").mkdir()
    err = _fill_and_rerun(repo, tmp_path, small_fs, str(small_fs / "store"))
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "no space left on the data remote's device" in lines[0], err
    # the local pool's remedy (`git mlv gc`) frees nothing on the remote
    assert "`git mlv gc --remote full`" in lines[0] and "push again" in lines[0], err


def test_sftp_remote_on_a_read_only_file_system(repo: Path, tmp_path: Path, sshd: SSHServer,
                                                small_fs: Path) -> None:
    """OpenSSH answers a write to a read-only file system with the generic SSH_FX_FAILURE: the
    error said only "packs/pack-....pack: Failure"."""
    (small_fs / "store" / "packs").mkdir(parents=True)
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    mlv("remote", "add", "ro", f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{small_fs}/store", cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=9))
    commit_all(repo, "data")
    proc = mlv("push", "ro", cwd=repo, check=False)
    err = proc.stderr.decode()
    lines = [line for line in err.splitlines() if "error:" in line]
    assert proc.returncode != 0 and len(lines) == 1, err
    assert "read-only, full or over quota" in lines[0] and "packs/pack-" in lines[0], err
