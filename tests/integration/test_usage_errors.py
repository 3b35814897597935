"""A usage mistake is one line on stderr and exit 2, as README promises ("errors are one line on
stderr with a non-zero exit"): argparse printed its usage block first, two to four lines for one
wrong word, and named the root `git mlv` for an option a verb does not have."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import mlv


@pytest.mark.parametrize("words, says", [
    (["diff", "--rows", "x"],
     "git mlv diff: argument --rows: invalid int value: 'x'; see `git mlv diff --help`"),
    (["diff", "--json", "--md"], "git mlv diff: argument --md: not allowed with argument --json"),
    (["status", "--bogus"], "git mlv status: unrecognized arguments: --bogus; see `git mlv status --help`"),
    (["remote", "add"], "git mlv remote add: the following arguments are required: NAME, URL"),
    (["prune", "--keep-days"], "git mlv prune: argument --keep-days: expected one argument"),
    (["--bogus"], "git mlv: unrecognized arguments: --bogus; see `git mlv --help`"),
])
def test_a_usage_mistake_is_one_line(repo: Path, words: list[str], says: str) -> None:
    p = mlv(*words, cwd=repo, check=False)
    lines = p.stderr.decode().splitlines()
    assert p.returncode == 2 and len(lines) == 1, lines
    assert lines[0].startswith("git-mlv: error: ") and says in lines[0], lines
    assert not p.stdout
