"""Pool settings out of range are the user's mistake, named as such (found trying bad input
everywhere): `git config mlv.chunkAvg 0` failed every `git add` with "git-mlv: internal error:
ValueError: min_size 0 is out of range [256, 4194304]" (pyfastcdc calls every size min_size),
`mlv.compressionLevel 99` with "internal error: ValueError: level must be less than 23", and
`mlv.packSize 0` wrote one pack per chunk."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, random_bytes, write


@pytest.mark.parametrize("key, value, words", [
    ("mlv.chunkAvg", "0", "mlv.chunkAvg = 0 is out of range: 256 to 4194304 bytes"),
    ("mlv.chunkMin", "2m", "mlv.chunkMin = 2097152 is out of range: 64 to 1048576 bytes"),
    ("mlv.chunkMax", "10", "mlv.chunkMax = 10 is out of range: 1024 to 16777216 bytes"),
    ("mlv.chunkMin", "8k", "mlv.chunkMin (8192) <= mlv.chunkAvg (4096) <= mlv.chunkMax (16384)"),
    ("mlv.compressionLevel", "99", "mlv.compressionLevel = 99 is out of range"),
    ("mlv.packSize", "0", "mlv.packSize = 0 is too small: at least 64k"),
])
def test_a_setting_out_of_range_is_named_in_one_line(repo: Path, key: str, value: str,
                                                     words: str) -> None:
    data = random_bytes(50_000, seed=3)
    write(repo / "a.bin", data)
    git("config", key, value, cwd=repo)
    p = git("add", "a.bin", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode != 0 and f"git-mlv: error: git config {words}" in err, err
    assert "internal error" not in err and "Traceback" not in err
    assert git("ls-files", cwd=repo).stdout == b""  # nothing staged
    p = mlv("fsck", cwd=repo, check=False)  # every verb says the same
    assert p.returncode == 2 and p.stderr.decode().count("\n") == 1 and words in p.stderr.decode()
    git("config", "--unset", key, cwd=repo)
    git("add", "a.bin", cwd=repo)  # fixed: works, and the bytes round-trip
    git("commit", "-q", "-m", "a", cwd=repo)
    (repo / "a.bin").unlink()
    git("checkout", "a.bin", cwd=repo)
    assert (repo / "a.bin").read_bytes() == data


def test_settings_in_range_still_work(repo: Path) -> None:
    data = random_bytes(120_000, seed=4)
    write(repo / "a.bin", data)
    for key, value in (("mlv.compressionLevel", "-5"), ("mlv.packSize", "64k"),
                       ("mlv.chunkMin", "256"), ("mlv.chunkAvg", "1k"), ("mlv.chunkMax", "4k")):
        git("config", key, value, cwd=repo)
    git("add", "a.bin", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    (repo / "a.bin").unlink()
    git("checkout", "a.bin", cwd=repo)
    assert (repo / "a.bin").read_bytes() == data
