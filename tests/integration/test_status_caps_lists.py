"""`git mlv status` listed every file without data one a line: 10,003 lines for a folder of 10,000
files. Like its other lists, it now names ten, then "... and N more"; --json stays complete."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import mlv, pointers_without_data


def test_status_names_ten_files_without_data_then_counts(repo: Path) -> None:
    names = pointers_without_data(repo, seed=880)

    lines = mlv("status", "--no-remote", cwd=repo).stdout.decode().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Data not in the local pool"))
    listed = lines[at + 1:at + 12]
    assert listed[0] == '  "a\\"q.bin"', lines
    assert listed[1:10] == [f"  f{i:02}.bin" for i in range(9)], lines
    assert listed[10] == "  ... and 5 more (`git mlv status --json` lists them all)", lines
    assert len(lines) < 20, lines

    doc = json.loads(mlv("status", "--no-remote", "--json", cwd=repo).stdout)
    assert sorted(doc["missing_data"]) == sorted(names)
