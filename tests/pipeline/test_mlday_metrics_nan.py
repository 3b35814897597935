"""A metric that is NaN at both revisions (a diverged loss, json.dump writes NaN) was listed by
`metrics diff` as changed, nan -> nan, because NaN != NaN in Python."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, mlv, out, write


def test_nan_that_stays_nan_is_not_a_change(repo: Path) -> None:
    mlv("stage", "add", "-n", "train", "-M", "m.json", "-p", "params.yaml:lr", "true", cwd=repo)
    write(repo / "params.yaml", b"lr: .nan\n")
    write(repo / "m.json", b'{"loss": NaN, "acc": 0.5}')
    commit_all(repo, "v1")
    write(repo / "m.json", b'{"loss": NaN, "acc": 0.6}')
    assert json.loads(out(mlv("metrics", "diff", "--json", cwd=repo))) == [
        {"path": "m.json", "key": "acc", "old": 0.5, "new": 0.6, "change": 0.1}]  # as written, not 0.6 - 0.5
    assert out(mlv("params", "diff", cwd=repo)) == "No changes.\n"
    write(repo / "m.json", b'{"loss": 0.25, "acc": 0.6}')
    rows = json.loads(out(mlv("metrics", "diff", "--json", cwd=repo)).replace("NaN", "null"))
    assert [(r["key"], r["old"], r["new"]) for r in rows] == [("acc", 0.5, 0.6), ("loss", None, 0.25)]
