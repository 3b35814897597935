"""`git mlv status` listed every file without data one a line: 10,003 lines for a folder of 10,000
files. Like its other lists, it now names ten, then "... and N more"; --json stays complete."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import git, mlv, random_bytes, write


def test_status_names_ten_files_without_data_then_counts(repo: Path) -> None:
    names = ['a"q.bin'] + [f"f{i:02}.bin" for i in range(14)]
    for n, name in enumerate(names):
        write(repo / name, random_bytes(3_000, seed=880 + n))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    shutil.rmtree(repo / ".git" / "mlv")
    for name in names:
        (repo / name).unlink()
    git("checkout", "--", ".", cwd=repo)  # pointers: their data is not here

    lines = mlv("status", "--no-remote", cwd=repo).stdout.decode().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Data not in the local pool"))
    listed = lines[at + 1:at + 12]
    assert listed[0] == '  "a\\"q.bin"', lines
    assert listed[1:10] == [f"  f{i:02}.bin" for i in range(9)], lines
    assert listed[10] == "  ... and 5 more (`git mlv status --json` lists them all)", lines
    assert len(lines) < 20, lines

    doc = json.loads(mlv("status", "--no-remote", "--json", cwd=repo).stdout)
    assert sorted(doc["missing_data"]) == sorted(names)
