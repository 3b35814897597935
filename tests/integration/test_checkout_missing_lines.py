"""`git mlv checkout` where the data is not here (a clone before `git mlv pull`, a deleted pool):
before, one "missing data" line per file (10,000 lines for 10,000 files), paths unquoted; now ten
named (C-quoted as git does), then a count."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import git, mlv, random_bytes, write


def test_checkout_names_ten_files_without_data_then_counts(repo: Path) -> None:
    names = ['a"q.bin'] + [f"f{i:02}.bin" for i in range(14)]
    for n, name in enumerate(names):
        write(repo / name, random_bytes(3_000, seed=780 + n))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    shutil.rmtree(repo / ".git" / "mlv")
    for name in names:
        (repo / name).unlink()
    git("checkout", "--", ".", cwd=repo)  # pointers: their data is not here

    p = mlv("checkout", cwd=repo, check=False)
    assert p.returncode == 1  # data asked for and not written: a failure (README), as for pull
    lines = p.stdout.decode().splitlines()
    assert lines[0] == "Checked out 0 file(s), 0 B"
    assert lines[1] == 'missing data: "a\\"q.bin" (run `git mlv pull`)'
    assert len(lines) == 12, lines
    assert lines[-1] == ("missing data: 5 more file(s) (run `git mlv pull`; `git mlv status --json` "
                         "names them all)")
