"""`git diff` and `git mlv diff --key` on the tables users actually have (real git): text with
newlines and tabs, and CSV files from European Excel (';' between fields)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write


def test_git_diff_escapes_values_once_and_reads_semicolon_csv(repo: Path) -> None:
    write(repo / "data" / "m.csv", 'id,t\n1,"multi\nline"\n2,"tab\there"\n3,"é\x01x"\n'.encode())
    write(repo / "data" / "eu.csv", b"id;name;price\n1;a;1.5\n2;b;2.5\n3;c;3.5\n")
    commit_all(repo, "v1")
    write(repo / "data" / "eu.csv", b"id;name;price\n1;a;1.5\n2;b;9.5\n3;c;3.5\n4;d;4.5\n")
    commit_all(repo, "v2")
    show = out(git("show", "HEAD~1", "--", "data/m.csv", cwd=repo))
    assert '\n+t top "multi\\nline" 1\n' in show and '\n+t top "tab\\there" 1\n' in show
    assert '\n+t top "é\\u0001x" 1\n' in show
    diff = out(git("diff", "-U100", "HEAD~1", "HEAD", "--", "data/eu.csv", cwd=repo))
    assert "\n column price double\n" in diff and '\n delimiter ";"\n' in diff
    assert "\n-rows 3\n" in diff and "\n+rows 4\n" in diff and "\n+price max 9.5\n" in diff
    # the keyed diff reads both revisions from the pool with the same delimiter
    r = json.loads(out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", "--json", cwd=repo)))
    files = {f["path"]: f for f in r["files"]}
    rows = files["data/eu.csv"]["rows"]
    assert (rows["added"], rows["removed"], rows["changed"], rows["unchanged"]) == (1, 0, 1, 2)
    assert rows["changed_rows"] == [{"id": 2, "changes": {"price": [2.5, 9.5]}}]
    assert files["data/eu.csv"]["table"]["old_rows"] == 3 and files["data/eu.csv"]["table"]["new_rows"] == 4
