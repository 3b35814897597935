"""A `git mlv run` that fails changes nothing (issue 8): no stage in .gitmlv, no pattern in
.gitattributes, and a replaced stage keeps its old definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, write


@pytest.mark.parametrize("why,args", [
    ("missing dependency", ["-d", "missing", "-o", "out", "echo hi > out"]),
    ("failing command", ["-o", "out", "exit 3"]),
])
def test_a_failed_run_changes_nothing(tmp_path: Path, why: str, args: list[str]) -> None:
    r = tmp_path / "r"
    r.mkdir()
    git("init", "-q", cwd=r)
    write(r / ".gitattributes", b"*.bin filter=mlv diff=mlv merge=mlv -text\n")
    before = (r / ".gitattributes").read_bytes()
    res = mlv("run", "-n", "x", *args, cwd=r, check=False)
    assert res.returncode != 0, why
    assert b"as they were" in res.stderr and b"Traceback" not in res.stderr
    # said once, and not contradicted: no "Added stage" for a stage that is undone
    assert res.stderr.count(b"failed") <= 1 and b"Added stage" not in res.stdout
    assert not (r / ".gitmlv").exists()
    assert (r / ".gitattributes").read_bytes() == before


def test_a_failed_replacement_keeps_the_old_stage(tmp_path: Path) -> None:
    r = tmp_path / "r"
    r.mkdir()
    git("init", "-q", cwd=r)
    mlv("run", "-n", "x", "-o", "out", "echo one > out", cwd=r)
    spec = (r / ".gitmlv").read_bytes()
    attrs = (r / ".gitattributes").read_bytes()
    res = mlv("run", "--force", "-n", "x", "-o", "out", "-o", "other", "exit 1", cwd=r, check=False)
    assert res.returncode != 0
    assert (r / ".gitmlv").read_bytes() == spec and (r / ".gitattributes").read_bytes() == attrs
