"""`git mlv checkout` where the data is not here (a clone before `git mlv pull`, a deleted pool):
before, one "missing data" line per file (10,000 lines for 10,000 files), paths unquoted; now ten
named (C-quoted as git does), then a count."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import mlv, pointers_without_data


def test_checkout_names_ten_files_without_data_then_counts(repo: Path) -> None:
    pointers_without_data(repo, seed=780)

    p = mlv("checkout", cwd=repo, check=False)
    assert p.returncode == 1  # data asked for and not written: a failure (README), as for pull
    lines = p.stdout.decode().splitlines()
    assert lines[0] == "Checked out 0 file(s), 0 B"
    # no data remote here: pull alone could not fetch it (test_status_checkout_paths.py)
    fetch = ("not here, and no data remote to fetch it from: `git mlv remote add NAME URL --default`, "
             "then `git mlv pull`")
    assert lines[1] == f'missing data: "a\\"q.bin" ({fetch})'
    assert len(lines) == 12, lines
    assert lines[-1] == f"missing data: 5 more file(s) ({fetch}; `git mlv status --json` names them all)"
