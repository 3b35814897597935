"""git mlv migrate from-lfs on repositories made by the real git-lfs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from git_mlv.ops.migrate_lfs import parse_lfs_pointer
from tests.helpers import git, mlv, out, random_bytes, sha256_file, write


def lfs(*args: str, cwd: Path) -> str:
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    return out(git("lfs", *args, cwd=cwd))


def make_lfs_repo(repo: Path) -> dict[str, dict[str, bytes]]:
    """Three commits through git-lfs (tags v1, v2, v3); returns each tag's tracked files."""
    git("init", "-q", "-b", "main", cwd=repo)
    lfs("install", "--local", cwd=repo)
    lfs("track", "*.bin", "data/**", cwd=repo)
    versions: dict[str, dict[str, bytes]] = {}
    files: dict[str, bytes] = {}
    for v in range(1, 4):
        files[f"model{v}.bin"] = random_bytes(20000 + v, seed=v)
        files["data/shared.csv"] = b"".join(b"%d,%d\n" % (i, i * v) for i in range(2000))
        if v == 3:
            del files["model1.bin"]
            (repo / "model1.bin").unlink()
        for name, data in files.items():
            write(repo / name, data)
        write(repo / "README.md", f"version {v}\n".encode())
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"v{v}", cwd=repo)
        git("tag", "-a", f"v{v}", "-m", f"release {v}", cwd=repo)
        versions[f"v{v}"] = dict(files)
    blob = git("cat-file", "blob", "HEAD:model2.bin", cwd=repo).stdout
    assert parse_lfs_pointer(blob) is not None  # git-lfs really stored a pointer
    return versions


def check_converted(repo: Path, rev: str, files: dict[str, bytes]) -> None:
    """At ``rev``, every git-lfs file is our pointer with git-lfs's sha256 and the data is here."""
    for name, data in files.items():
        ptr = Pointer.parse(git("cat-file", "blob", f"{rev}:{name}", cwd=repo).stdout)
        assert ptr.size == len(data)
    attrs = out(git("cat-file", "blob", f"{rev}:.gitattributes", cwd=repo))
    assert "*.bin filter=mlv diff=mlv merge=mlv -text" in attrs and "filter=lfs" not in attrs


def test_from_lfs_head(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    versions = make_lfs_repo(repo)
    lfs_oids = {n: parse_lfs_pointer(git("cat-file", "blob", f"HEAD:{n}", cwd=repo).stdout)
                for n in versions["v3"]}
    head = out(git("rev-parse", "HEAD", cwd=repo))
    dry = out(mlv("migrate", "from-lfs", "--dry-run", cwd=repo))  # says where the commit would go
    assert "Would convert 3 git-lfs file(s)" in dry
    assert "would add one commit on main (no commit rewritten)" in dry, dry
    assert out(git("rev-parse", "HEAD", cwd=repo)) == head
    res = out(mlv("migrate", "from-lfs", cwd=repo))
    assert "Converted 3 git-lfs file(s)" in res and "New commit" in res
    check_converted(repo, "HEAD", versions["v3"])
    for name, data in versions["v3"].items():
        ptr = Pointer.parse(git("cat-file", "blob", f"HEAD:{name}", cwd=repo).stdout)
        assert lfs_oids[name] == (ptr.oid, ptr.size)  # same sha256 as git-lfs's oid
        assert (repo / name).read_bytes() == data
        assert sha256_file(repo / name) == ptr.oid
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    # history is kept: the old commits still hold git-lfs pointers
    assert parse_lfs_pointer(git("cat-file", "blob", "HEAD~1:model3.bin", cwd=repo).stdout)
    # the data really comes from our pool now: a fresh checkout without git-lfs's store
    shutil.rmtree(repo / ".git" / "lfs")
    for name in versions["v3"]:
        (repo / name).unlink()
    git("checkout", "--", ".", cwd=repo)
    for name, data in versions["v3"].items():
        assert (repo / name).read_bytes() == data
    assert "Nothing to change" in out(mlv("migrate", "from-lfs", cwd=repo))


@pytest.mark.slow
def test_from_lfs_everything(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    versions = make_lfs_repo(repo)
    before = out(git("rev-parse", "v1", "v2", "v3", "main", cwd=repo)).split()
    dry = out(mlv("migrate", "from-lfs", "--everything", "--dry-run", cwd=repo))
    assert "Would convert 6 git-lfs file(s)" in dry  # distinct versions: 3 models, 3 csv
    res = out(mlv("migrate", "from-lfs", "--everything", cwd=repo))
    assert "refs/tags/v1" in res
    assert out(git("rev-parse", "refs/mlv-migrate/tags/v1", cwd=repo)).strip() == before[0]
    for tag, files in versions.items():
        check_converted(repo, tag, files)
        assert out(git("cat-file", "-t", tag, cwd=repo)).strip() == "tag"
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    shutil.rmtree(repo / ".git" / "lfs")  # from here on only git-mlv's pool can give the bytes
    for tag, files in versions.items():
        git("checkout", "-q", tag, cwd=repo)
        for name, data in files.items():
            assert (repo / name).read_bytes() == data, (tag, name)
        assert out(git("status", "--porcelain", cwd=repo)) == ""
    git("checkout", "-q", "main", cwd=repo)
    assert "Nothing to change" in out(mlv("migrate", "from-lfs", "--everything", cwd=repo))


def test_from_lfs_missing_objects(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    make_lfs_repo(repo)
    before = out(git("for-each-ref", cwd=repo))
    oid = parse_lfs_pointer(git("cat-file", "blob", "v1:model1.bin", cwd=repo).stdout)[0]  # type: ignore[index]
    (repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid).unlink()
    proc = mlv("migrate", "from-lfs", "--everything", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "git lfs fetch --all" in err and "model1.bin" in err
    assert "Traceback" not in err
    assert out(git("for-each-ref", cwd=repo)) == before  # nothing moved
    # HEAD alone does not need the v1-only object
    mlv("migrate", "from-lfs", cwd=repo)


@pytest.mark.parametrize("everything", [False, True])
def test_from_lfs_converts_what_is_staged(tmp_path: Path, everything: bool) -> None:
    """A git-lfs file staged before the migration (git-lfs's clean made the index entry) becomes
    ours in the index too: committed as it was, it would reach a clone as git-lfs pointer text."""
    repo = tmp_path / "repo"
    repo.mkdir()
    make_lfs_repo(repo)
    staged = random_bytes(30000, seed=99)
    write(repo / "model2.bin", staged)
    write(repo / "new.bin", staged[:777])
    git("add", "model2.bin", "new.bin", cwd=repo)
    assert parse_lfs_pointer(git("cat-file", "blob", ":new.bin", cwd=repo).stdout)
    write(repo / "model3.bin", b"changed, not staged")  # left alone, as before
    out(mlv("migrate", "from-lfs", *(["--everything"] if everything else []), cwd=repo))
    for name, data in (("model2.bin", staged), ("new.bin", staged[:777])):
        ptr = Pointer.parse(git("cat-file", "blob", f":{name}", cwd=repo).stdout)
        assert (ptr.size, ptr.oid) == (len(data), sha256_file(repo / name))
        assert (repo / name).read_bytes() == data
    assert out(git("status", "--porcelain", cwd=repo)).splitlines() == \
        ["M  model2.bin", " M model3.bin", "A  new.bin"]
    git("commit", "-q", "-m", "staged work", "--", "model2.bin", "new.bin", cwd=repo)
    shutil.rmtree(repo / ".git" / "lfs")  # the data is in our pool, not only in git-lfs's store
    for name in ("model2.bin", "new.bin"):
        (repo / name).unlink()
    git("checkout", "--", "model2.bin", "new.bin", cwd=repo)
    assert (repo / "model2.bin").read_bytes() == staged
    assert (repo / "new.bin").read_bytes() == staged[:777]


def test_a_git_lfs_pointer_under_our_filter_is_named_at_checkout(repo: Path) -> None:
    """git-lfs pointer text where git-mlv data is expected (a file never brought over, committed
    by a git-lfs user) is checked out as that text, as before, but no longer in silence."""
    text = (b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 + b"\nsize 12345\n")
    blob = out(git("hash-object", "-w", "--no-filters", "--stdin", cwd=repo, input=text)).strip()
    git("update-index", "--add", "--cacheinfo", f"100644,{blob},model.bin", cwd=repo)
    git("add", ".gitattributes", cwd=repo)
    git("commit", "-q", "-m", "a git-lfs pointer under filter=mlv", cwd=repo)
    proc = git("checkout", "--", "model.bin", cwd=repo)
    assert (repo / "model.bin").read_bytes() == text  # still the text...
    assert "'model.bin' holds a git-lfs pointer" in proc.stderr.decode()  # ...and said
    assert "migrate from-lfs" in proc.stderr.decode()
