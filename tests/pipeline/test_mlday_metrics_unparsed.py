"""`git mlv metrics diff` when a metrics file does not parse at one revision: a warning naming the
revision, the file and the parse error (as `metrics show` and `params diff` give), that file's
metrics compared on neither side, and the other metrics files still compared. It used to stop with
the parse error as its only output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, write


def test_metrics_diff_with_a_file_that_does_not_parse(repo: Path) -> None:
    mlv("stage", "add", "-n", "train", "-M", "metrics.json", "-M", "eval.yaml", "true", cwd=repo)
    write(repo / "metrics.json", b'{"acc": 0.5}')
    write(repo / "eval.yaml", b"auc: 0.6\n")
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    write(repo / "metrics.json", b'{"acc": 0.7')  # a run killed while writing it
    write(repo / "eval.yaml", b"auc: 0.8\n")
    p = mlv("metrics", "diff", "v1", "--json", cwd=repo, check=False)
    assert p.returncode == 0, p.stderr
    warnings = p.stderr.decode().splitlines()
    assert len(warnings) == 1
    assert warnings[0].startswith("git-mlv: warning: workspace: cannot parse metrics.json: ")
    assert warnings[0].endswith("; the metrics of metrics.json are not compared")
    # metrics.json's values are unknown here, not removed; eval.yaml is still compared
    assert json.loads(p.stdout) == [{"path": "eval.yaml", "key": "auc", "old": 0.6, "new": 0.8,
                                     "change": 0.2}]  # as written, not 0.8 - 0.6
    # the same with the broken file committed, on the old side, in the table output
    commit_all(repo, "broken")
    write(repo / "metrics.json", b'{"acc": 0.9}')
    p = mlv("metrics", "diff", "--all", cwd=repo, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode().startswith("git-mlv: warning: HEAD: cannot parse metrics.json: ")
    assert "metrics.json" not in p.stdout.decode() and "eval.yaml" in p.stdout.decode()
    # show still lists what parsed, and warns about the rest
    p = mlv("metrics", "show", "v1", "HEAD", "--json", cwd=repo, check=False)
    assert p.returncode == 0 and "HEAD: cannot parse metrics.json" in p.stderr.decode()
    assert json.loads(p.stdout)["HEAD"] == {"eval.yaml": {"auc": 0.8}}


def test_metrics_diff_with_a_malformed_spec_is_still_an_error(repo: Path) -> None:
    mlv("stage", "add", "-n", "train", "-M", "metrics.json", "true", cwd=repo)
    write(repo / "metrics.json", b'{"acc": 0.5}')
    commit_all(repo, "v1")
    write(repo / ".gitmlv", b"[stage \"train\"\n\tcmd = true\n")
    p = mlv("metrics", "diff", cwd=repo, check=False)
    assert p.returncode != 0 and b"malformed" in p.stderr and b"Traceback" not in p.stderr
