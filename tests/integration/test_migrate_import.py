"""git mlv migrate import on a real plain-git history: 50+ commits, a branch and a merge, tags
(annotated and lightweight), big files added, changed, renamed and deleted along the way."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from git_mlv.gitio.catfile import CatFile
from git_mlv.gitio.pathmatch import PathFilter
from git_mlv.ops.context import Workspace
from tests.helpers import BIN, git, mlv, out, random_bytes, write

PATTERNS = PathFilter(["*.bin", "data/**"])


def _commit(repo: Path, msg: str) -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", msg, cwd=repo)


def make_history(repo: Path, big: int = 6000) -> None:
    """A plain-git repository (no git-mlv attributes) with a varied history."""
    git("init", "-q", "-b", "main", cwd=repo)
    write(repo / "README.md", b"# project\n")
    write(repo / "src" / "code.py", b"print('hi')\n")
    write(repo / "data" / "ünï côde \"q\".bin", random_bytes(big, seed=99))  # quoted by fast-export
    write(repo / "tools" / "run.bin", random_bytes(big, seed=98)).chmod(0o755)
    os.symlink("README.md", repo / "link.bin")  # a symlink is never converted
    for i in range(50):
        if i % 5 == 0:
            write(repo / "models" / f"m{i}.bin", random_bytes(big + i * 37, seed=i))
        if i % 7 == 3:
            write(repo / "data" / f"t{i}.csv", b"".join(b"%d,%d\n" % (k, k * i) for k in range(400)))
        if i % 6 == 4 and (repo / "models" / f"m{i - 4}.bin").exists():
            git("mv", f"models/m{i - 4}.bin", f"models/renamed{i}.bin", cwd=repo)
        if i % 11 == 10:
            victims = sorted((repo / "models").glob("*.bin"))
            if victims:
                victims[0].unlink()
        if i % 4 == 1:
            with open(repo / "models" / "shared.bin", "ab") as f:
                f.write(random_bytes(3000, seed=1000 + i))
        if i == 12:
            write(repo / "empty.bin", b"")
        write(repo / "src" / "code.py", f"print({i})\n".encode())
        _commit(repo, f"commit {i}")
        if i == 9:
            git("tag", "-a", "v0.1", "-m", "first release", cwd=repo)
        if i == 20:
            git("tag", "light", cwd=repo)
        if i == 25:
            git("switch", "-q", "-c", "feature", cwd=repo)
            for k in range(5):
                write(repo / "data" / f"feature{k}.bin", random_bytes(big, seed=500 + k))
                _commit(repo, f"feature {k}")
            git("tag", "-a", "feature-done", "-m", "feature tag", cwd=repo)
            git("switch", "-q", "main", cwd=repo)
        if i == 35:
            git("merge", "-q", "--no-ff", "-m", "merge feature", "feature", cwd=repo)


def commits_of(repo: Path, ref: str) -> list[str]:
    return out(git("rev-list", "--topo-order", "--reverse", ref, cwd=repo)).split()


def tree_entries(repo: Path, rev: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob id) of every file at ``rev``."""
    files = {}
    for item in git("ls-tree", "-r", "-z", rev, cwd=repo).stdout.split(b"\0"):
        if item:
            meta, _, path = item.partition(b"\t")
            mode, _, blob = meta.decode().split()
            files[path.decode()] = (mode, blob)
    return files


def tree_files(repo: Path, rev: str) -> dict[str, str]:
    """path -> blob id of every file at ``rev``."""
    return {p: blob for p, (_, blob) in tree_entries(repo, rev).items()}


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def check_same_bytes(repo: Path, pairs: list[tuple[str, str]], checkouts: int = 4) -> None:
    """Every rewritten commit holds the original's files: the same blob, or (chosen paths) a pointer
    to the original's sha256 and size whose data is in the pool; and the .gitattributes lines.
    ``checkouts`` of them (spread out, the last included) are checked out through the real filter
    and compared byte for byte."""
    with Workspace.discover(str(repo)) as ws, CatFile(ws.repo) as cat:
        for old, new in pairs:
            want, got = tree_entries(repo, old), tree_entries(repo, new)
            assert set(got) - set(want) <= {".gitattributes"}, (old, new)
            for path, (mode, blob) in want.items():
                assert got[path][0] == mode, path  # executable bits and links kept
                if got[path][1] == blob:
                    unconverted = mode == "120000" or not (cat.info(blob) or ("", 1))[1]
                    assert not PATTERNS(path) or unconverted, path
                    continue
                assert PATTERNS(path), f"{path} changed at {new} but is not a chosen file"
                data = cat.read(blob) or b""
                ptr = Pointer.parse(cat.read(got[path][1]) or b"")
                assert (ptr.oid, ptr.size) == (hashlib.sha256(data).hexdigest(), len(data)), path
                assert ws.pool.has_file(ptr.oid), path
            attrs = (cat.read(f"{new}:.gitattributes") or b"").decode()
            assert "*.bin filter=mlv diff=mlv merge=mlv -text" in attrs
            assert "data/** filter=mlv diff=mlv merge=mlv -text" in attrs
    step = max(1, len(pairs) // checkouts)
    for old, new in pairs[::-1][::step][:checkouts]:
        git("checkout", "-q", "--detach", new, cwd=repo)
        for path, blob in tree_files(repo, old).items():
            p = repo / path
            data = os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
            assert blob_id(data) == blob, f"{path} at {new} differs from {old}"
        assert out(git("status", "--porcelain", cwd=repo)) == ""


def refs(repo: Path, prefix: str = "") -> dict[str, str]:
    raw = out(git("for-each-ref", "--format=%(refname) %(objectname)", *([prefix] if prefix else []),
                  cwd=repo))
    return dict(line.split() for line in raw.splitlines())


@pytest.mark.slow
def test_import_everything(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    make_history(repo)
    before = refs(repo)
    history = {r: commits_of(repo, r) for r in ("main", "feature")}
    dry = out(mlv("migrate", "import", "--include=*.bin,data/**", "--everything", "--dry-run", cwd=repo))
    assert "Would convert" in dry and "refs/tags/v0.1" in dry
    assert refs(repo) == before  # a dry run moves nothing

    res = out(mlv("migrate", "import", "--include=*.bin,data/**", "--everything", cwd=repo))
    assert "refs/mlv-migrate/" in res
    after = refs(repo)
    for name, oid in before.items():
        assert after["refs/mlv-migrate/" + name.removeprefix("refs/")] == oid  # backups of the old refs
        assert after[name] != oid, name
    # the work tree and index follow the moved branch: clean, real bytes
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    # annotated tags stay annotated and point into the new history
    assert out(git("cat-file", "-t", "v0.1", cwd=repo)).strip() == "tag"
    assert "first release" in out(git("cat-file", "-p", "v0.1", cwd=repo))
    assert out(git("log", "-1", "--format=%s", "v0.1", cwd=repo)) == "commit 9\n"
    assert out(git("merge-base", "--is-ancestor", "v0.1", "main", cwd=repo)) == ""
    pairs = []
    for r, old in history.items():
        new = commits_of(repo, r)
        assert len(new) == len(old)
        pairs += list(zip(old, new))
    check_same_bytes(repo, list(dict.fromkeys(pairs)))
    git("switch", "-q", "main", cwd=repo)

    # a second run changes nothing
    again = out(mlv("migrate", "import", "--include=*.bin,data/**", "--everything", cwd=repo))
    assert "Nothing to change" in again
    assert refs(repo) == after
    # git-mlv's own fsck agrees with the pool
    mlv("fsck", cwd=repo)


def test_no_rewrite_adds_one_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    write(repo / "a.h5", random_bytes(30000, 1))
    write(repo / "b.txt", b"text\n")
    _commit(repo, "one")
    first = out(git("rev-parse", "HEAD", cwd=repo)).strip()
    write(repo / "b.txt", b"my uncommitted edit\n")  # the user's work in progress is kept
    dry = out(mlv("migrate", "import", "--include=*.h5", "--no-rewrite", "--dry-run", cwd=repo))
    assert "would add one commit on main (no commit rewritten)" in dry, dry
    assert out(git("rev-parse", "HEAD", cwd=repo)).strip() == first
    res = out(mlv("migrate", "import", "--include=*.h5", "--no-rewrite", cwd=repo))
    assert "New commit" in res
    assert out(git("rev-parse", "HEAD~1", cwd=repo)).strip() == first  # history kept
    assert Pointer.parse(git("cat-file", "blob", "HEAD:a.h5", cwd=repo).stdout).size == 30000
    assert (repo / "a.h5").read_bytes() == random_bytes(30000, 1)
    assert out(git("status", "--porcelain", cwd=repo)) == " M b.txt\n"
    assert not refs(repo, "refs/mlv-migrate/")
    again = out(mlv("migrate", "import", "--include=*.h5", "--no-rewrite", cwd=repo))
    assert "Nothing to change" in again


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    proc = mlv("migrate", "import", cwd=repo, check=False)
    assert proc.returncode == 2 and b"--include" in proc.stderr and b"Traceback" not in proc.stderr
    write(repo / "a.bin", b"x" * 2000)
    _commit(repo, "one")
    proc = mlv("migrate", "import", "--include=*.bin", "nosuchbranch", cwd=repo, check=False)
    assert proc.returncode == 1 and b"nosuchbranch" in proc.stderr
    write(repo / ".gitattributes", b"*.txt text\n")
    proc = mlv("migrate", "import", "--include=*.bin", cwd=repo, check=False)
    assert proc.returncode == 1 and b".gitattributes has uncommitted changes" in proc.stderr


@pytest.mark.slow
def test_kill_midway_keeps_refs(tmp_path: Path) -> None:
    """kill -9 while blobs are being stored: every ref is as it was, and a rerun finishes."""
    repo = tmp_path / "repo"
    repo.mkdir()
    make_history(repo, big=60000)
    before = refs(repo)
    packs = repo / ".git" / "mlv" / "packs"
    proc = subprocess.Popen([os.path.join(BIN, "git-mlv"), "migrate", "import", "--include=*.bin,data/**",
                             "--everything", "-q"], cwd=repo, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(packs.glob("*.pack")) if packs.exists() else []) < 3:
        time.sleep(0.005)
    assert proc.poll() is None, "the migration finished before it could be killed: make the data bigger"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert refs(repo) == before
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    mlv("fsck", cwd=repo)  # the pool is readable
    mlv("migrate", "import", "--include=*.bin,data/**", "--everything", cwd=repo)
    main = commits_of(repo, "refs/mlv-migrate/heads/main")
    assert main == commits_of(repo, before["refs/heads/main"])
    check_same_bytes(repo, list(zip(main, commits_of(repo, "main")))[-3:])


def _above_history(repo: Path) -> dict[str, bytes]:
    """Two commits on main and one on a tagged branch; returns what each file held at its peak."""
    git("init", "-q", "-b", "main", cwd=repo)
    big, odd, shrunk = random_bytes(30000, 1), random_bytes(20000, 2), random_bytes(40000, 3)
    write(repo / "data" / "big.csv", big)
    write(repo / "data" / "small.csv", b"a,b\n1,2\n")
    write(repo / "data" / "we ird[1].bin", odd)  # spaces and glob characters in the exact pattern
    write(repo / "data" / "shrinks.bin", shrunk)
    write(repo / "logs" / "huge.log", random_bytes(50000, 4))  # excluded below
    write(repo / "cfg.yaml", b"lr: 0.1\n")
    _commit(repo, "one")
    write(repo / "data" / "shrinks.bin", b"now small\n")  # its small version must follow it
    write(repo / "data" / "small.csv", b"a,b\n" * 500)  # 2,000 bytes: never above the size
    _commit(repo, "two")
    git("switch", "-q", "-c", "side", cwd=repo)
    write(repo / "side.bin", random_bytes(12000, 5))
    _commit(repo, "three")
    git("tag", "-a", "v1", "-m", "tag", cwd=repo)
    git("switch", "-q", "main", cwd=repo)
    return {"big": big, "odd": odd, "shrunk": shrunk}


def test_import_above_converts_whole_paths(tmp_path: Path) -> None:
    """--above SIZE: exactly the paths that ever hold a file bigger than SIZE, in every commit,
    each with its own anchored .gitattributes line; bytes equal after checkout; bad sizes refused."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _above_history(repo)
    before = {r: commits_of(repo, r) for r in ("main", "side")}
    bad = mlv("migrate", "import", "--above", "10 parsecs", cwd=repo, check=False)
    assert bad.returncode == 2 and b"not a size" in bad.stderr and b"Traceback" not in bad.stderr
    res = out(mlv("migrate", "import", "--above=10kB", "-X", "logs/**", "--everything", cwd=repo))
    assert "Converted 5 file(s)" in res, res  # big, odd, both versions of shrinks, side
    chosen = {"data/big.csv", "data/we ird[1].bin", "data/shrinks.bin", "side.bin"}
    with Workspace.discover(str(repo)) as ws, CatFile(ws.repo) as cat:
        for r, old_commits in before.items():
            for old, new in zip(old_commits, commits_of(repo, r), strict=True):
                want, got = tree_files(repo, old), tree_files(repo, new)
                attrs = (cat.read(f"{new}:.gitattributes") or b"").decode()
                assert attrs.count("filter=mlv") == len(chosen)
                assert "/data/we[[:space:]]ird\\[1].bin filter=mlv" in attrs
                for path, blob in want.items():
                    if path not in chosen:
                        assert got[path] == blob, path  # small, excluded and git's files untouched
                        continue
                    data = cat.read(blob) or b""
                    ptr = Pointer.parse(cat.read(got[path]) or b"")
                    assert ptr.oid == hashlib.sha256(data).hexdigest() and ws.pool.has_file(ptr.oid)
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    for rev, old_rev in (("v1", "refs/mlv-migrate/tags/v1"), ("main~1", "refs/mlv-migrate/heads/main~1")):
        git("checkout", "-q", "--detach", rev, cwd=repo)  # through the real filter, byte for byte
        for path, blob in tree_files(repo, old_rev).items():
            assert blob_id((repo / path).read_bytes()) == blob, (rev, path)
        check = out(git("check-attr", "filter", "--", "data/we ird[1].bin", "data/small.csv", cwd=repo))
        assert "we ird[1].bin: filter: mlv" in check and "small.csv: filter: unspecified" in check
    git("switch", "-q", "main", cwd=repo)
    none = out(mlv("migrate", "import", "--above=1GB", "--no-rewrite", cwd=repo))
    assert "nothing to convert" in none


@pytest.mark.parametrize("mode", [["--everything"], ["--no-rewrite"]])
def test_files_staged_before_the_migration_are_converted(tmp_path: Path, mode: list[str]) -> None:
    """A big file `git add`ed (as a plain blob) before `migrate import`: the index kept the blob
    under the new `filter=mlv` line, `git mlv status` said nothing, and the next commit put the
    bytes in git. Its index entry now takes our pointer, its data in the pool, as from-lfs does
    for staged git-lfs pointers; a clone gets the bytes from the data remote."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    write(repo / "model.bin", random_bytes(9000, seed=1))
    write(repo / "notes.txt", b"plain\n")
    _commit(repo, "c1")
    staged = random_bytes(12000, seed=2)
    write(repo / "model.bin", staged)
    write(repo / "data" / "new.bin", random_bytes(7000, seed=3))
    write(repo / "notes.txt", b"plain, edited\n")
    git("add", "-A", cwd=repo)
    mlv("migrate", "import", "--include", "*.bin", *mode, cwd=repo)
    for name, data in (("model.bin", staged), ("data/new.bin", random_bytes(7000, seed=3))):
        ptr = Pointer.parse(git("cat-file", "blob", f":{name}", cwd=repo).stdout)
        assert (ptr.oid, ptr.size) == (hashlib.sha256(data).hexdigest(), len(data))
        assert (repo / name).read_bytes() == data
    assert git("cat-file", "blob", ":notes.txt", cwd=repo).stdout == b"plain, edited\n"
    assert out(git("status", "--porcelain", cwd=repo)).splitlines() == [
        "A  data/new.bin", "M  model.bin", "M  notes.txt"]
    git("commit", "-q", "-m", "c2", cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("add", ".gitmlv", cwd=repo)
    git("commit", "-q", "-m", "remote", cwd=repo)
    git("init", "-q", "--bare", str(tmp_path / "origin.git"), cwd=tmp_path)
    git("push", "-q", str(tmp_path / "origin.git"), "main", cwd=repo)
    git("clone", "-q", str(tmp_path / "origin.git"), "clone", cwd=tmp_path)
    assert (tmp_path / "clone" / "model.bin").read_bytes() == staged
