"""A metrics file holding a list or a lone value (`[{"acc": 0.9}]`, `0.9`) was read as no metrics
at all: `metrics show` said "No metrics found." and `metrics diff` "No changes.", with nothing about
the file. It is now the warning a file that does not parse gets (real git, real git-mlv)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, mlv, write


def test_a_list_or_a_lone_value_is_named(repo: Path) -> None:
    mlv("stage", "add", "-n", "s", "-M", "m.json", "-M", "e.yaml", "true", cwd=repo)
    write(repo / "m.json", b'[{"acc": 0.9}]')
    write(repo / "e.yaml", b"0.75\n")
    commit_all(repo, "v1")
    p = mlv("metrics", "show", "HEAD", cwd=repo)
    assert p.stdout == b"No metrics found.\n"
    assert p.stderr.decode().splitlines() == [
        "git-mlv: warning: HEAD: cannot read e.yaml as metrics: it holds a lone value (0.75), not a "
        "mapping of names to values",
        "git-mlv: warning: HEAD: cannot read m.json as metrics: it holds a list, not a mapping of "
        "names to values",
    ]
    write(repo / "m.json", b'{"acc": 0.9}')
    write(repo / "e.yaml", b"")  # empty: no metrics, no warning
    p = mlv("metrics", "diff", cwd=repo)
    assert p.stdout == b"No changes.\n"  # m.json's values at HEAD are unknown: nothing "added"
    assert p.stderr.decode().splitlines() == [
        "git-mlv: warning: HEAD: cannot read e.yaml as metrics: it holds a lone value (0.75), not a "
        "mapping of names to values; the metrics of e.yaml are not compared",
        "git-mlv: warning: HEAD: cannot read m.json as metrics: it holds a list, not a mapping of "
        "names to values; the metrics of m.json are not compared"]
