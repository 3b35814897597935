"""`git mlv params diff` when a parameter file does not parse at one revision: a warning naming the
revision, the file and the parse error (as `metrics show` gives for a metrics file), and that file's
parameters compared on neither side, not shown as removed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, mlv, write


def test_params_diff_with_a_file_that_does_not_parse(two_tags: Path) -> None:
    write(two_tags / "params.yaml", b"lr: [0.1\n")  # broken in the work tree
    p = mlv("params", "diff", "v1", "--json", cwd=two_tags, check=False)
    assert p.returncode == 0
    warnings = p.stderr.decode().splitlines()
    assert len(warnings) == 1
    assert warnings[0].startswith("git-mlv: warning: workspace: cannot parse params.yaml: ")
    rows = json.loads(p.stdout)
    # params.yaml's values are unknown here, not removed; other.yaml is still compared
    assert rows == [{"path": "other.yaml", "key": "seed", "old": 1, "new": 2, "change": 1}]
    # the same at a committed revision, on the old side
    commit_all(two_tags, "broken")
    write(two_tags / "params.yaml", b"lr: 0.2\nepochs: 3\n")
    p = mlv("params", "diff", "HEAD", "--all", cwd=two_tags, check=False)
    assert p.returncode == 0
    assert p.stderr.decode().startswith("git-mlv: warning: HEAD: cannot parse params.yaml: ")
    assert "params.yaml" not in p.stdout.decode() and "other.yaml" in p.stdout.decode()
