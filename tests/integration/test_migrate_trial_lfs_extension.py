"""from-lfs on pointers written through a git-lfs extension (``lfs.extension.NAME.clean``).

git-lfs stores the *extension's output* as the object and adds an ``ext-0-NAME sha256:...`` line
naming the file's own sha256. Regression: the migration took the object for the file, so after it
every such file checked out as the extension's output (here upper-cased text), silently. Now the
file is what `git lfs smudge` gives (each extension's smudge run back), checked against the
``ext-0`` sha256; when git-lfs cannot give it, the migration stops before any ref moves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from git_mlv.core.pointer import Pointer
from tests.helpers import git, mlv, out, sha256_file, write


def _repo(repo: Path) -> dict[str, bytes]:
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    git("init", "-q", str(repo), cwd=repo.parent)
    git("lfs", "install", "--local", cwd=repo)
    git("config", "lfs.extension.upper.clean", "tr a-z A-Z", cwd=repo)
    git("config", "lfs.extension.upper.smudge", "tr A-Z a-z", cwd=repo)
    git("config", "lfs.extension.upper.priority", "0", cwd=repo)
    git("lfs", "track", "*.txt", cwd=repo)
    versions = {"v1": b"hello world\n" * 300, "v2": b"second version\n" * 300}
    for tag, data in versions.items():
        write(repo / "notes.txt", data)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", tag, cwd=repo)
        git("tag", tag, cwd=repo)
    assert b"\next-0-upper sha256:" in git("cat-file", "blob", "HEAD:notes.txt", cwd=repo).stdout
    return versions


def test_extension_pointers_become_the_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    versions = _repo(repo)
    out(mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo))
    shutil.rmtree(repo / ".git" / "lfs")  # only git-mlv's pool can give the bytes now
    for tag, data in versions.items():
        git("checkout", "-q", "-f", tag, cwd=repo)
        ptr = Pointer.parse(git("cat-file", "blob", f"{tag}:notes.txt", cwd=repo).stdout)
        assert (repo / "notes.txt").read_bytes() == data, tag
        assert sha256_file(repo / "notes.txt") == ptr.oid


def test_an_extension_git_lfs_cannot_undo_stops_the_migration(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _repo(repo)
    git("config", "lfs.extension.upper.smudge", "false", cwd=repo)
    before = out(git("for-each-ref", cwd=repo))
    proc = mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "notes.txt" in err and "git-lfs extension" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert out(git("for-each-ref", cwd=repo)) == before
