"""`git mlv pull` and pointers committed at paths no tracked pattern covers (a data file renamed to
an untracked name): checkout leaves them as git's pointer text (commit c13bdbc), so pull must not
download their data either.

Regression: pull fetched the data of every pointer in the index, those outside the patterns too,
and then never wrote it: a clone of a repository with a renamed 1 GB model paid for 1 GB and got
pointer text. Now such files are not fetched, and pull says so once (as status lists them).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write

HEAD = b"version https://git-mlv.dev/spec/v1\n"


def _origin_with_renamed(repo: Path, tmp_path: Path, renamed: list[str]) -> Path:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for i, name in enumerate([*renamed, "kept"]):
        write(repo / f"{name}.bin", random_bytes(40_000 + i, seed=90 + i))
    commit_all(repo, "data")
    for name in renamed:
        git("mv", f"{name}.bin", f"{name}.dat", cwd=repo)
    git("commit", "-q", "-m", "rename out of the patterns", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    return origin


def test_pull_does_not_fetch_pointers_outside_patterns(repo: Path, tmp_path: Path) -> None:
    renamed = [f"r{i}" for i in range(7)]
    origin = _origin_with_renamed(repo, tmp_path, renamed)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert sha256_file(clone / "kept.bin") == sha256_file(repo / "kept.bin")

    proc = mlv("pull", "--json", cwd=clone)
    res = json.loads(proc.stdout)
    assert res["fetch"]["files"] == 1 and res["fetch"]["bytes_received"] == 0, res["fetch"]  # kept.bin only
    assert sorted(res["outside_patterns"]) == [f"{n}.dat" for n in renamed], res
    present = {f["path"]: f["present"] for f in json.loads(mlv("ls-files", "--json", cwd=clone).stdout)}
    assert not any(present[f"{n}.dat"] for n in renamed), present  # nothing of them downloaded

    err = mlv("pull", cwd=clone).stderr.decode()
    warned = [line for line in err.splitlines() if "outside every tracked pattern" in line]
    assert len(warned) == 1, err  # said once, the first five named, then a count
    assert "7 pointer(s)" in warned[0] and "r0.dat" in warned[0] and "and 2 more" in warned[0], err
    assert "git mlv track '*.dat'" in warned[0], err
    for n in renamed:
        assert (clone / f"{n}.dat").read_bytes().startswith(HEAD)
    assert git("status", "--porcelain", cwd=clone).stdout == b""

    # tracked again, the same pull fetches them and writes their data
    mlv("track", "*.dat", cwd=clone)
    res = json.loads(mlv("pull", "--json", cwd=clone).stdout)
    assert res["fetch"]["fetched"] == len(renamed) and res["outside_patterns"] == [], res
    for n in renamed:
        assert sha256_file(clone / f"{n}.dat") == sha256_file(repo / f"{n}.dat")
