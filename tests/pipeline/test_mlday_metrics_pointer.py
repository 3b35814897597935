"""A metrics file under a tracked pattern is stored as a pointer. In a clone that does not hold
its data, `metrics show` warned "cannot parse data/m.json: Expecting value: line 1 column 1": the
pointer text went to the JSON parser. The warning now says the data is not here and how to get it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write


def test_metrics_whose_data_is_not_here(repo: Path, tmp_path: Path) -> None:
    mlv("stage", "add", "-n", "eval", "-M", "data/m.json", "-M", "plain.json", "true", cwd=repo)
    write(repo / "data" / "m.json", b'{"auc": 0.9}')
    write(repo / "plain.json", b'{"acc": 0.5}')
    commit_all(repo, "v1")
    assert json.loads(out(mlv("metrics", "show", "HEAD", "--json", cwd=repo))) == {
        "HEAD": {"data/m.json": {"auc": 0.9}, "plain.json": {"acc": 0.5}}}
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)  # no data remote: a pointer stays
    p = mlv("metrics", "show", "HEAD", "--json", cwd=clone, check=False)
    assert p.returncode == 0
    assert json.loads(out(p)) == {"HEAD": {"plain.json": {"acc": 0.5}}}
    assert p.stderr.decode() == ("git-mlv: warning: HEAD: cannot read data/m.json: its data is not here "
                                 "(a git-mlv pointer); `git mlv pull` or `git mlv fetch --all` gets it\n")
