"""git mlv get / import: a source that cannot be reached is a remote error (exit 5, README's
table), a revision or path that is not in a reachable source is the caller's mistake (exit 2)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, push_files, random_bytes


def test_an_unreachable_source_exits_5_a_missing_revision_2(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    git("init", "-q", cwd=src)
    push_files(src, tmp_path, {"data/a.bin": random_bytes(5_000, seed=1)}, "data/**")
    for url in (str(tmp_path / "nowhere"), "file://" + str(tmp_path / "nowhere")):
        proc = mlv("get", url, "data", "-o", str(tmp_path / "out"), cwd=tmp_path, check=False)
        err = proc.stderr.decode()
        assert proc.returncode == 5, err
        assert "cannot fetch from" in err and len(err.strip().splitlines()) == 1, err
    proc = mlv("get", str(src), "data", "--rev", "nosuch", "-o", str(tmp_path / "out"), cwd=tmp_path,
               check=False)
    assert proc.returncode == 2 and "not found" in proc.stderr.decode(), proc.stderr
    proc = mlv("get", str(src), "data/zzz", "-o", str(tmp_path / "out"), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "is not in" in proc.stderr.decode(), proc.stderr
    assert not (tmp_path / "out").exists()
