"""git mlv update of a folder import holding a file of the user's that the source does not have
(real git, two repositories with folder data remotes).

Regression: the update staged it with the import (`git add -A OUT`): a scratch file, or a secret,
put in data/raw by hand was committed as part of the imported data, which the source never had.
It now counts as a local change: refused (naming it), and --force leaves the folder holding the
source's files only.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write
from tests.integration.test_imports import _fail, _source, dest_repo


def test_an_untracked_file_in_an_import_folder_is_a_local_change(tmp_path: Path) -> None:
    src = _source(tmp_path)
    dst = dest_repo(tmp_path)
    mlv("import", str(src), "data", "-o", "raw", cwd=dst)
    commit_all(dst, "import")
    write(src / "data" / "a.bin", random_bytes(40_000, seed=22))
    commit_all(src, "v2")
    mlv("push", cwd=src)
    write(dst / "raw" / "scratch.txt", b"mine\n")
    err = _fail(["update", "raw"], dst)
    assert "raw has local changes (raw/scratch.txt is a file of yours, not from the source)" in err, err
    assert out(git("status", "--porcelain", cwd=dst)).strip() == "?? raw/scratch.txt"  # nothing staged
    mlv("update", "raw", "--force", cwd=dst)
    assert not (dst / "raw" / "scratch.txt").exists()
    assert "scratch" not in out(git("status", "--porcelain", cwd=dst))
    assert (dst / "raw" / "a.bin").read_bytes() == random_bytes(40_000, seed=22)
