"""A CSV whose bad row holds terminal escape codes (real git). pyarrow quotes the row it could not
parse in its error, and `git diff` (the summary's note) and `git mlv diff` (the table's error)
printed it raw: the file's bytes ran as escape codes in the reader's terminal (colours here; a
title change or worse elsewhere). The note is now escaped as a value is (docs/inspect.md)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write


def test_a_bad_row_is_quoted_escaped(repo: Path) -> None:
    write(repo / "data" / "t.csv", b"id,v\n1,2\n")
    commit_all(repo, "v1")
    write(repo / "data" / "t.csv", b"id,v\n1,2\n3,\x1b[31mred,x\x1b]0;owned\x07\n")
    commit_all(repo, "v2")
    escaped = r"3,\u001b[31mred,x\u001b]0;owned\u0007"
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "\x1b" not in d and "\x07" not in d
    assert f"+note not a readable csv file: CSV parse error: Expected 2 columns, got 3: {escaped}\n" in d
    text = out(mlv("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "\x1b" not in text
    assert f"data/t.csv: not readable as a table: CSV parse error: Expected 2 columns, got 3: {escaped}" \
        in text
    error = json.loads(out(mlv("diff", "HEAD~1", "HEAD", "--json", cwd=repo)))["files"][0]["table"]["error"]
    assert error.endswith(escaped)
