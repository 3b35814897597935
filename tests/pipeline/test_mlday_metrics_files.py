"""Metrics files named on the command line and metrics files that do not parse, seen from where a
data scientist types: `metrics show/diff --file PATH` in a subdirectory read the root's file of that
name (and `../metrics.json` failed with git cat-file's "fatal: ... outside repository"); `plots`
left a metrics file that did not parse out of the picture without a word."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, one_error_line, out, write


def _two_tags(repo: Path) -> None:
    mlv("stage", "add", "-n", "train", "-M", "metrics.json", "-M", "src/eval.json", "true", cwd=repo)
    for tag, acc in (("v1", 0.5), ("v2", 0.7)):
        write(repo / "metrics.json", json.dumps({"acc": acc}).encode())
        write(repo / "src" / "eval.json", json.dumps({"auc": acc + 0.1}).encode())
        commit_all(repo, tag)
        git("tag", tag, cwd=repo)


def test_file_is_relative_to_the_current_directory(repo: Path) -> None:
    _two_tags(repo)
    src = repo / "src"
    shown = json.loads(out(mlv("metrics", "show", "v1", "--file", "eval.json", "--json", cwd=src)))
    assert shown == {"v1": {"src/eval.json": {"auc": 0.6}}}
    rows = json.loads(out(mlv("metrics", "diff", "v1", "v2", "--file", "../metrics.json", "--json",
                              cwd=src)))
    assert [(r["path"], r["key"], r["old"], r["new"]) for r in rows] == [("metrics.json", "acc", 0.5, 0.7)]
    # from the root, as before
    rows = json.loads(out(mlv("metrics", "diff", "v1", "v2", "--file", "src/eval.json", "--json", cwd=repo)))
    assert [(r["path"], r["key"]) for r in rows] == [("src/eval.json", "auc")]
    err = one_error_line(mlv("metrics", "show", "--file", "../../x.json", cwd=src, check=False), 2)
    assert "outside the repository" in err and "fatal" not in err


def test_plots_warns_about_a_metrics_file_that_does_not_parse(repo: Path, tmp_path: Path) -> None:
    _two_tags(repo)
    write(repo / "metrics.json", b'{"acc": 0.9')  # a run killed while writing it
    commit_all(repo, "broken")
    git("tag", "v3", cwd=repo)
    p = mlv("plots", "-o", str(tmp_path / "p.png"), cwd=repo, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode().startswith("git-mlv: warning: v3: cannot parse metrics.json: ")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
