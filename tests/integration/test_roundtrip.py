"""Round trips through the real git binary and our filter: bytes out == bytes in."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write


def checkout_fresh(repo: Path, rev: str) -> None:
    git("checkout", "-q", rev, cwd=repo)


def assert_clean(repo: Path) -> None:
    assert out(git("status", "--porcelain", cwd=repo)) == ""


CASES = {
    "empty.bin": b"",
    "one.bin": b"x",
    "chunkmin.bin": random_bytes(1024, 1),  # test chunk sizes: 1 KiB min, 4 KiB avg, 16 KiB max
    "chunkmax.bin": random_bytes(16384, 2),
    "multi.bin": random_bytes(16384 * 7, 3),
    "crlf nul.bin": b"line1\r\nline2\r\n\x00\x00\xff\r\n" * 3000,
    "data/unicode ünï 名前.bin": random_bytes(5000, 4),
    "data/text.csv": b"a,b,c\n" + b"1,2,3\n" * 20000,
}


def test_roundtrip_cases(repo: Path) -> None:
    for name, data in CASES.items():
        write(repo / name, data)
    pointer_text = Pointer("c" * 64, 123).encode()
    write(repo / "data" / "is-a-pointer.bin", pointer_text)
    commit_all(repo, "v1")
    # git stores pointers, not the data
    blob = git("cat-file", "blob", "HEAD:multi.bin", cwd=repo).stdout
    assert Pointer.parse(blob).size == len(CASES["multi.bin"])
    # content that already is a pointer is committed unchanged
    assert git("cat-file", "blob", "HEAD:data/is-a-pointer.bin", cwd=repo).stdout == pointer_text
    for name in [*CASES, "data/is-a-pointer.bin"]:
        (repo / name).unlink()
    git("checkout", "--", ".", cwd=repo)
    for name, data in CASES.items():
        assert (repo / name).read_bytes() == data, name
    assert (repo / "data" / "is-a-pointer.bin").read_bytes() == pointer_text
    assert_clean(repo)


def test_executable_bit_survives(repo: Path) -> None:
    p = write(repo / "run.bin", random_bytes(20000))
    p.chmod(0o755)
    commit_all(repo, "exe")
    assert "100755" in out(git("ls-files", "-s", "run.bin", cwd=repo))
    p.unlink()
    git("checkout", "--", "run.bin", cwd=repo)
    assert p.stat().st_mode & stat.S_IXUSR
    assert_clean(repo)


def make_dataset(root: Path, version: int) -> dict[str, str]:
    files = {}
    for i in range(30 + 10 * version):
        p = write(root / "data" / f"img_{i:03d}.bin", random_bytes(3000 + i * 50, seed=i))
        files[p.name] = sha256_file(p)
    table = write(root / "data" / "table.csv",
                  b"".join(b"%d,%d\n" % (i, i * version) for i in range(20000)))
    files["table.csv"] = sha256_file(table)
    return files


def snapshot(root: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in (root / "data").iterdir()}


def test_switching_versions(repo: Path) -> None:
    v1 = make_dataset(repo, 1)
    commit_all(repo, "v1")
    git("tag", "v1.0", cwd=repo)
    v2 = make_dataset(repo, 2)
    (repo / "data" / "img_000.bin").unlink()
    v2.pop("img_000.bin")
    commit_all(repo, "v2")
    git("tag", "v2.0", cwd=repo)
    for rev, want in [("v1.0", v1), ("v2.0", v2), ("v1.0", v1), ("main", v2)]:
        checkout_fresh(repo, rev)
        assert snapshot(repo) == want, rev
        assert_clean(repo)


def test_stash_reset_merge_rebase_cherry_pick(repo: Path) -> None:
    base = random_bytes(40000, 10)
    write(repo / "model.bin", base)
    write(repo / "data" / "a.bin", random_bytes(9000, 11))
    commit_all(repo, "base")
    # stash
    changed = random_bytes(40000, 12)
    write(repo / "model.bin", changed)
    git("stash", cwd=repo)
    assert (repo / "model.bin").read_bytes() == base
    git("stash", "pop", cwd=repo)
    assert (repo / "model.bin").read_bytes() == changed
    # reset --hard
    git("reset", "-q", "--hard", cwd=repo)
    assert (repo / "model.bin").read_bytes() == base
    assert_clean(repo)
    # branches: merge, rebase, cherry-pick
    git("checkout", "-q", "-b", "feature", cwd=repo)
    feat = random_bytes(30000, 13)
    write(repo / "data" / "feature.bin", feat)
    commit_all(repo, "feature data")
    feat_commit = out(git("rev-parse", "HEAD", cwd=repo)).strip()
    git("checkout", "-q", "main", cwd=repo)
    assert not (repo / "data" / "feature.bin").exists()
    main_data = random_bytes(25000, 14)
    write(repo / "data" / "main.bin", main_data)
    commit_all(repo, "main data")
    git("merge", "-q", "--no-edit", "feature", cwd=repo)
    assert (repo / "data" / "feature.bin").read_bytes() == feat
    assert (repo / "data" / "main.bin").read_bytes() == main_data
    assert_clean(repo)
    git("reset", "-q", "--hard", "HEAD~1", cwd=repo)
    git("checkout", "-q", "feature", cwd=repo)
    git("rebase", "-q", "main", cwd=repo)
    assert (repo / "data" / "main.bin").read_bytes() == main_data
    assert (repo / "data" / "feature.bin").read_bytes() == feat
    git("checkout", "-q", "main", cwd=repo)
    git("cherry-pick", feat_commit, cwd=repo)
    assert (repo / "data" / "feature.bin").read_bytes() == feat
    assert_clean(repo)


def test_worktrees_share_the_pool(repo: Path, tmp_path: Path) -> None:
    data = random_bytes(50000, 20)
    write(repo / "model.bin", data)
    commit_all(repo, "v1")
    git("branch", "other", cwd=repo)
    wt = tmp_path / "wt"
    git("worktree", "add", "-q", str(wt), "other", cwd=repo)
    assert (wt / "model.bin").read_bytes() == data
    assert not (wt / ".git" / "mlv").exists()  # .git is a file: one pool, in the main repo
    more = random_bytes(20000, 21)
    write(wt / "data" / "new.bin", more)
    commit_all(wt, "from worktree")
    git("merge", "-q", "other", cwd=repo)
    assert (repo / "data" / "new.bin").read_bytes() == more


def test_dedup_bounds(repo: Path) -> None:
    git("config", "mlv.chunkAvg", "49152", cwd=repo)  # real sizes for a real bound
    git("config", "mlv.chunkMin", "16384", cwd=repo)
    git("config", "mlv.chunkMax", "262144", cwd=repo)
    git("config", "mlv.packSize", "16m", cwd=repo)
    data = bytearray(random_bytes(20_000_000, 30))
    write(repo / "big.bin", bytes(data))
    commit_all(repo, "v1")
    from tests.helpers import pool_size

    before = pool_size(repo)
    data[8_000_000:8_200_000] = random_bytes(200_000, 31)  # 1 % in one block
    write(repo / "big.bin", bytes(data))
    commit_all(repo, "v2")
    after_edit = pool_size(repo)
    assert after_edit - before < 0.05 * before, (before, after_edit)
    write(repo / "copy.bin", bytes(data))
    commit_all(repo, "copy")
    assert pool_size(repo) - after_edit < 0.01 * before


def test_missing_data_leaves_pointer_and_warns(repo: Path, tmp_path: Path) -> None:
    data = random_bytes(30000, 40)
    write(repo / "model.bin", data)
    commit_all(repo, "v1")
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)  # no data remote: nothing to fetch from
    proc = git("checkout", "-q", "HEAD", "--", "model.bin", cwd=clone)
    text = (clone / "model.bin").read_bytes()
    assert Pointer.parse(text).size == len(data)
    assert proc.returncode == 0
    assert_clean(clone)
    clone2 = tmp_path / "clone2"
    proc = git("clone", str(repo), str(clone2), cwd=tmp_path)
    assert b"model.bin" in proc.stderr and b"git mlv pull" in proc.stderr
    st = out(mlv("status", cwd=clone2))
    assert "model.bin" in st
    assert_clean(clone2)


def test_textconv_and_diff(repo: Path) -> None:
    write(repo / "model.bin", random_bytes(5000, 50))
    commit_all(repo, "v1")
    write(repo / "model.bin", random_bytes(6000, 51))
    diff = out(git("diff", cwd=repo))
    assert "size 6000" in diff and "size 5000" in diff


def test_pointer_in_worktree_stays_pointer_when_readded(repo: Path, tmp_path: Path) -> None:
    """A file whose data never arrived is re-added as the same pointer, not stored as data."""
    write(repo / "model.bin", random_bytes(30000, 60))
    commit_all(repo, "v1")
    clone = tmp_path / "c"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    os.utime(clone / "model.bin", None)
    git("add", "-A", cwd=clone)
    assert out(git("status", "--porcelain", cwd=clone)) == ""


@pytest.mark.slow
def test_300mb_file(repo: Path) -> None:
    git("config", "mlv.chunkAvg", "49152", cwd=repo)
    git("config", "mlv.chunkMin", "16384", cwd=repo)
    git("config", "mlv.chunkMax", "262144", cwd=repo)
    git("config", "mlv.packSize", "32m", cwd=repo)
    path = repo / "huge.bin"
    with open(path, "wb") as f:
        for i in range(300):
            f.write(random_bytes(1_000_000, 1000 + i))
    want = sha256_file(path)
    commit_all(repo, "big")
    path.unlink()
    git("checkout", "--", "huge.bin", cwd=repo)
    assert sha256_file(path) == want
    assert_clean(repo)


def test_conflicting_data_keeps_ours_and_says_how_to_take_theirs(repo: Path) -> None:
    write(repo / "model.bin", random_bytes(20000, 70))
    commit_all(repo, "base")
    git("checkout", "-q", "-b", "side", cwd=repo)
    theirs = random_bytes(20000, 71)
    write(repo / "model.bin", theirs)
    commit_all(repo, "side")
    git("checkout", "-q", "main", cwd=repo)
    ours = random_bytes(20000, 72)
    write(repo / "model.bin", ours)
    commit_all(repo, "main")
    proc = git("merge", "side", cwd=repo, check=False)
    assert proc.returncode != 0
    assert b"kept ours" in proc.stderr and b"--theirs" in proc.stderr
    assert (repo / "model.bin").read_bytes() == ours  # real data, no conflict markers
    git("checkout", "--theirs", "--", "model.bin", cwd=repo)
    assert (repo / "model.bin").read_bytes() == theirs
    commit_all(repo, "take theirs")
    assert_clean(repo)
