"""A pack index (.idx) gone while the midx still covers its pack (deleted by hand, left out of a
copy or a backup): reads go through the midx and never notice, but fsck, fsck --repair, gc and prune
open every pack's index and stopped with "internal error: FileNotFoundError". They now rebuild the
index from the pack when the pack is whole (the rebuilt index is byte-equal to the lost one), and a
pack too damaged to index again is one line, nothing deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.core.pack import HEADER
from tests.helpers import git, mlv, one_error_line, origin_and_store, random_bytes, write

FILES = {"a.bin": random_bytes(90_000, seed=711), "b.bin": random_bytes(500, seed=712)}


def _setup(repo: Path, tmp_path: Path) -> Path:
    """Data committed and pushed, the pool consolidated into one pack under a midx; that pack's
    index removed. Returns the index's path (its old bytes in ``<path>.saved``)."""
    origin_and_store(repo, tmp_path, files=0)
    for path, data in FILES.items():
        write(repo / path, data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    mlv("push", cwd=repo)
    mlv("gc", cwd=repo)
    packs = repo / ".git" / "mlv" / "packs"
    assert (packs / "pool.midx").exists()
    (index,) = packs.glob("*.idx")
    index.rename(str(index) + ".saved")
    return index


@pytest.mark.parametrize("verb", [["fsck"], ["fsck", "--repair"], ["gc"], ["gc", "--dry-run"],
                                  ["prune", "--dry-run"], ["prune"]])
def test_a_lost_pack_index_is_rebuilt(repo: Path, tmp_path: Path, verb: list[str]) -> None:
    index = _setup(repo, tmp_path)
    proc = mlv(*verb, cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "internal error" not in err
    if verb[0] == "fsck":
        assert f"rebuilt the missing index of {index.name[:-4]}.pack from the pack" in proc.stdout.decode()
    if verb != ["prune"]:  # prune deletes the pushed pack: its index goes with it
        assert index.read_bytes() == Path(str(index) + ".saved").read_bytes()
    assert mlv("fsck", cwd=repo, check=False).returncode == 0
    for path, data in FILES.items():
        (repo / path).unlink()
        git("checkout", "--", path, cwd=repo)  # from the pool, or the remote after prune
        assert (repo / path).read_bytes() == data


def test_a_pack_too_damaged_to_index_is_one_line(repo: Path, tmp_path: Path) -> None:
    index = _setup(repo, tmp_path)
    pack = Path(str(index)[:-4] + ".pack")
    data = bytearray(pack.read_bytes())
    data[HEADER.size: HEADER.size + 16] = bytes(16)  # the first entry's header: none parses
    pack.write_bytes(bytes(data))
    proc = mlv("fsck", cwd=repo, check=False)
    assert proc.returncode == 3 and "internal error" not in proc.stderr.decode()
    assert not index.exists()
    assert "no index and is too damaged" in one_error_line(mlv("gc", cwd=repo, check=False), 3)
    assert pack.exists()
