"""A folder output defined before it exists (`stage add`, or `run --no-exec`, then the command run
by hand): `.gitattributes` got `/outdir` only, which does not reach the files inside, so `git add`
stored them in git as plain blobs, not pointers. Both patterns are written while the kind is
unknown; once the output exists, the one of the other kind is taken out again."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import git, mlv, out

CMD = "mkdir -p outdir && echo a > outdir/a.txt && echo b > outdir/b.txt && echo x > out.dat"


def _attrs(repo: Path) -> list[str]:
    return [line.split()[0] for line in (repo / ".gitattributes").read_text().splitlines()]


def _pointers(repo: Path) -> dict[str, bool]:
    staged = out(git("ls-files", "-s", cwd=repo)).splitlines()
    res = {}
    for line in staged:
        meta, path = line.split("\t", 1)
        blob = git("cat-file", "-p", meta.split()[1], cwd=repo).stdout
        res[path] = blob.startswith(b"version https://git-mlv.dev/spec/v1\n")
    return res


def test_outputs_defined_before_they_exist_are_stored_as_pointers(repo: Path) -> None:
    mlv("stage", "add", "-n", "mk", "-o", "outdir", "-o", "out.dat", CMD, cwd=repo)
    assert {"/outdir/**", "/outdir", "/out.dat"} <= set(_attrs(repo))
    subprocess.run(CMD, shell=True, cwd=repo, check=True)  # run by hand, then committed
    git("add", "-A", cwd=repo)
    assert _pointers(repo) == {".gitattributes": False, ".gitmlv": False, "out.dat": True,
                               "outdir/a.txt": True, "outdir/b.txt": True}
    # the data round-trips: the pointers' data is in the pool
    git("commit", "-q", "-m", "outputs", cwd=repo)
    (repo / "outdir" / "a.txt").unlink()
    git("checkout", "--", "outdir/a.txt", cwd=repo)
    assert (repo / "outdir" / "a.txt").read_bytes() == b"a\n"
    # once repro saw what they are, the patterns that cannot apply are gone
    mlv("repro", cwd=repo)
    attrs = _attrs(repo)
    assert "/outdir/**" in attrs and "/out.dat" in attrs
    assert "/outdir" not in attrs and "/out.dat/**" not in attrs


def test_an_existing_output_gets_only_its_own_pattern(repo: Path) -> None:
    subprocess.run(CMD, shell=True, cwd=repo, check=True)
    mlv("stage", "add", "-n", "mk", "-o", "outdir", "-o", "out.dat", CMD, cwd=repo)
    attrs = _attrs(repo)
    assert "/outdir/**" in attrs and "/out.dat" in attrs
    assert "/outdir" not in attrs and "/out.dat/**" not in attrs


def test_run_reports_only_the_patterns_it_leaves(repo: Path) -> None:
    text = out(mlv("run", "-n", "mk", "-o", "outdir", "-o", "out.dat", CMD, cwd=repo))
    said = [line for line in text.splitlines() if line.startswith("Tracking ")]
    assert said == ["Tracking /outdir/** (in .gitattributes)", "Tracking /out.dat (in .gitattributes)"]
    assert set(said) == {f"Tracking {p} (in .gitattributes)" for p in _attrs(repo) if "outdir" in p or
                         "out.dat" in p}
