"""`git mlv metrics` across tags where the spec itself is damaged (helper C)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv


def test_a_malformed_spec_at_a_tag_is_named_once(two_tags: Path) -> None:
    """A .gitmlv that does not parse at a tag was reported as "v3: v3:.gitmlv is malformed" by
    `metrics show -T` and `metrics diff`: the revision twice."""
    with open(two_tags / ".gitmlv", "a") as f:
        f.write('[stage "train"\n')
    commit_all(two_tags, "broken spec")
    git("tag", "v3", cwd=two_tags)
    p = mlv("metrics", "show", "-T", cwd=two_tags, check=False)
    assert p.returncode == 0
    warnings = [x for x in p.stderr.decode().splitlines() if "v3" in x]
    assert warnings and warnings[0].startswith("git-mlv: warning: v3:.gitmlv is malformed"), warnings
    d = mlv("metrics", "diff", "v2", "v3", cwd=two_tags, check=False)
    assert d.returncode != 0 and d.stderr.decode().startswith("git-mlv: error: v3:.gitmlv is malformed")
