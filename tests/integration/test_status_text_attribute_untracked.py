"""A pointer `git mv`-ed out of the patterns (``m1.bin`` to ``m1.txt``) has no git-mlv line, so
no ``-text`` of ours that a ``text`` attribute could override; `git mlv status` lists it (the
worktree holds its data, the index its pointer) and named it under "Tracked files whose `text`
attribute overrides git-mlv's `-text`" with a hint to set ``-text`` on a line that never said
anything about it. Only files git sends through ``filter=mlv`` are named there now."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def test_a_file_moved_out_of_the_patterns_is_not_named_for_its_text_attribute(repo: Path) -> None:
    write(repo / "m1.bin", random_bytes(3000, 1))
    write(repo / "m2.bin", random_bytes(3000, 2))
    commit_all(repo, "data")
    git("mv", "m1.bin", "m1.txt", cwd=repo)
    git("commit", "-qm", "moved out of the patterns", cwd=repo)
    with open(repo / ".gitattributes", "ab") as f:
        f.write(b"*.bin text\n")  # overrides our -text for m2.bin
    (repo / "m2.bin").write_bytes(b"changed\n")
    st = json.loads(out(mlv("status", "--no-remote", "--json", cwd=repo)))
    assert "m1.txt" in st["modified"], st  # the case: listed by status
    assert st["text_attribute"] == ["m2.bin"], st
