"""`git mlv push` after a one-file commit looks at that file, not at every file of HEAD.

Before, `git mlv push` (default HEAD) listed HEAD's whole tree and read every pointer in it, even
when the data remote was known to hold the data of HEAD's parent (a `git push` verified it,
ops/verified.py): 2.4 s and 133 MB at 100,000 files after a commit of one file. Now a tree is
compared with the newest commit verified on the remote (`git diff-tree`), and only the files
that differ are checked and sent; with nothing verified, every file is, as before. The test
counts the pointer blobs read and checks the bytes a clone gets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.ops import sync
from git_mlv.ops.context import Workspace
from tests.helpers import git, origin_and_store, random_bytes, sha256_file, write

FILES = 100


def test_push_after_a_verified_push_reads_only_the_change(repo: Path, tmp_path: Path,
                                                           asked: list[int]) -> None:
    origin = origin_and_store(repo, tmp_path)
    for i in range(FILES):
        write(repo / "data" / f"f{i:03d}.bin", b"file %d\n" % i)
    git("add", "data", cwd=repo)
    git("commit", "-q", "-m", "many", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)  # the pre-push hook verifies HEAD on 'store'
    changed = write(repo / "data" / "f007.bin", random_bytes(50_000, seed=7))
    new = write(repo / "data" / "new" / "g.bin", random_bytes(3_000, seed=8))
    git("add", "data", cwd=repo)
    git("commit", "-q", "-m", "two files", cwd=repo)

    ws = Workspace.discover(str(repo))
    res = sync.push(ws)
    assert (res.uploaded_files, res.missing) == (2, [])
    assert max(asked) <= 2, asked  # before: every file of HEAD (104 blobs)
    again = sync.push(ws)
    assert (again.uploaded_files, again.already_there) == (0, 2)

    # the data is on the remote: a clone of commits pushed without the hook gets the bytes
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    for f in (changed, new, repo / "data" / "f050.bin", repo / "f0.bin"):
        assert sha256_file(clone / f.relative_to(repo)) == sha256_file(f)


def test_push_without_a_verified_commit_reads_the_whole_tree(repo: Path, tmp_path: Path,
                                                             asked: list[int]) -> None:
    origin_and_store(repo, tmp_path)
    for i in range(FILES):
        write(repo / "data" / f"f{i:03d}.bin", b"file %d\n" % i)
    git("add", "data", cwd=repo)
    git("commit", "-q", "-m", "many", cwd=repo)
    ws = Workspace.discover(str(repo))
    res = sync.push(ws)  # nothing verified yet (no git push): every file is checked and sent
    assert (res.uploaded_files, res.missing) == (FILES + 1, [])
    assert sum(asked) >= FILES + 1
    asked.clear()
    git("push", "-q", "origin", "main", cwd=repo)
    verified = repo / ".git" / "mlv" / "remotes" / "store" / "verified"
    assert verified.exists()
    # a record naming a pack the remote no longer lists is not trusted: the whole tree again
    verified.write_text(verified.read_text() + "pack pack-" + "0" * 32 + "\n")
    res = sync.push(Workspace.discover(str(repo)))
    assert (res.uploaded_files, res.already_there) == (0, FILES + 1)
    # a verified commit this clone does not have (a branch deleted, git gc): the whole tree again
    text = verified.read_text()
    verified.write_text(text[:text.index("\ncommit ")] + "\ncommit " + "1" * 40 + "\n")
    asked.clear()
    res = sync.push(Workspace.discover(str(repo)))
    assert (res.uploaded_files, res.already_there) == (0, FILES + 1)
    assert sum(asked) >= FILES + 1
    # and a revision that names no commit is still the usage error it was
    with pytest.raises(sync.UsageError, match="names no commit here"):
        sync.push(Workspace.discover(str(repo)), revs=["nope"])
