"""Empty data files in `git mlv diff` and `git diff` (real git). A tracked empty file is stored as
itself, not as a pointer (docs/pointer-spec.md rule 10): `git mlv diff` called a file that went
from empty to rows "added" (and one emptied "deleted"), and an empty table was summarised as an
unreadable binary file ("Empty CSV file"). An empty table is a table of no rows and no columns."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write


def _files(repo: Path, *args: str) -> dict[str, dict]:
    r = json.loads(out(mlv("diff", *args, "--json", cwd=repo)))
    return {f["path"]: f for f in r["files"]}


def test_a_file_that_was_empty_is_modified_not_added(repo: Path) -> None:
    write(repo / "data" / "e.csv", b"")
    write(repo / "data" / "full.jsonl", b'{"id": 1}\n')
    write(repo / "plain.txt", b"")  # not tracked: never part of the data diff
    commit_all(repo, "v1")
    write(repo / "data" / "e.csv", b"id,x\n1,0.5\n2,1.5\n")
    write(repo / "data" / "full.jsonl", b"")
    write(repo / "plain.txt", b"text\n")
    files = _files(repo)  # the work tree against HEAD
    assert sorted(files) == ["data/e.csv", "data/full.jsonl"]
    e, full = files["data/e.csv"], files["data/full.jsonl"]
    assert e["status"] == "modified" and e["old"]["size"] == 0 and e["new"]["size"] == 17
    assert e["table"]["old_rows"] == 0 and e["table"]["new_rows"] == 2
    assert e["table"]["added_columns"] == [["id", "int64"], ["x", "double"]]
    assert e["table"]["error"] is None
    assert full["status"] == "modified" and full["new"]["size"] == 0
    assert (full["table"]["old_rows"], full["table"]["new_rows"]) == (1, 0)
    commit_all(repo, "v2")
    files = _files(repo, "HEAD~1", "HEAD")
    assert {p: f["status"] for p, f in files.items()} == {"data/e.csv": "modified",
                                                          "data/full.jsonl": "modified"}
    assert files["data/e.csv"]["old"]["oid"] == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # --key against an empty side: one line saying why, the other tables still compared
    proc = mlv("diff", "HEAD~1", "HEAD", "--key", "id", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "no column 'id' in data/e.csv at HEAD~1 (columns: none)" in out(proc)
    # an empty file added where data is tracked is listed, as any other added file
    write(repo / "data" / "new.tsv", b"")
    git("add", "data/new.tsv", cwd=repo)
    added = _files(repo)["data/new.tsv"]
    assert added["status"] == "added" and added["new"]["size"] == 0 and added["table"]["new_rows"] == 0


def test_git_diff_summarises_an_empty_table_as_a_table(repo: Path) -> None:
    write(repo / "data" / "t.csv", b"a,b\n1,2\n")
    commit_all(repo, "v1")
    for name, data in (("t.csv", b""), ("e.tsv", b""), ("e.jsonl", b""),
                       ("e.csv.gz", gzip.compress(b"", mtime=0)),
                       # what an editor or Excel leaves in an emptied file: a line end, a BOM
                       ("nl.csv", b"\n"), ("bom.csv", b"\xef\xbb\xbf\r\n"), ("nl.jsonl", b"\n\n")):
        write(repo / "data" / name, data)
        text = out(mlv("textconv", f"data/{name}", cwd=repo))
        lines = text.splitlines()
        assert lines[2:4] == ["rows 0", "columns 0"] and lines[4].startswith("sha256 "), text
        assert "binary" not in lines[0] and "note" not in text
    commit_all(repo, "v2")
    diff = out(git("diff", "HEAD~1", "HEAD", "--", "data/t.csv", cwd=repo))
    assert "\n-rows 1\n" in diff and "\n+rows 0\n" in diff and "\n-column a int64\n" in diff


def test_first_rows_of_a_header_only_table_are_not_a_retype(repo: Path) -> None:
    """A header-only CSV's columns are typed null (no value to infer from); its first rows used to
    be reported as every column retyped (`~ id (null -> int64)`)."""
    write(repo / "data" / "h.csv", b"id,name,x,gone\n")
    commit_all(repo, "v1")
    write(repo / "data" / "h.csv", b"id,name,x\n1,a,0.5\n")
    f = _files(repo, "--key", "id")["data/h.csv"]
    assert f["table"]["retyped_columns"] == [] and f["table"]["removed_columns"] == [["gone", "null"]]
    assert (f["table"]["old_rows"], f["table"]["new_rows"]) == (0, 1)
    assert (f["rows"]["added"], f["rows"]["removed"]) == (1, 0)
    commit_all(repo, "v2")
    write(repo / "data" / "h.csv", b"id,name,x\n1,a,\n")  # x's only value gone: typed null again
    assert _files(repo)["data/h.csv"]["table"]["retyped_columns"] == []
    write(repo / "data" / "h.csv", b"id,name,x\n1,a,text\n")  # a real retype is still one
    assert _files(repo)["data/h.csv"]["table"]["retyped_columns"] == [["x", "double", "string"]]


def test_empty_against_a_plain_git_blob_is_not_data(repo: Path) -> None:
    """Under a tracked pattern, a revision that stored the file as a plain git blob (not a
    pointer) is not data: an empty file against it is not reported, as before."""
    write(repo / "data" / "x.csv", b"")
    commit_all(repo, "v1")
    blob = out(git("hash-object", "-w", "--no-filters", "--stdin", cwd=repo, input=b"a\n1\n")).strip()
    git("update-index", "--cacheinfo", f"100644,{blob},data/x.csv", cwd=repo)
    git("commit", "-q", "-m", "plain", cwd=repo)
    assert _files(repo, "HEAD~1", "HEAD") == {}
    assert _files(repo, "HEAD", "HEAD~1") == {}
