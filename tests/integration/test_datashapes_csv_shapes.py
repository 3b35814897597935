"""CSV shapes from spreadsheets in `git mlv diff --key` (real git). A header naming a column twice
(two columns headed "a", as Excel exports let happen) stopped the whole diff with "internal error:
KeyError: 'Field \"a\" exists 2 times in schema'", exit 70. A repeated name is now made unique as
pandas does ("a", "a.1"), alike on both sides."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write


def test_a_repeated_column_name_is_compared_by_position(repo: Path) -> None:
    write(repo / "data" / "dup.csv", b"id,a,a,a.1\n1,2,3,x\n2,3,4,y\n")
    write(repo / "data" / "twice.csv", b"id,id,v\n1,7,a\n2,8,b\n")
    commit_all(repo, "v1")
    write(repo / "data" / "dup.csv", b"id,a,a,a.1\n1,2,5,x\n2,3,4,z\n")
    write(repo / "data" / "twice.csv", b"id,id,v\n1,7,a\n2,9,b\n")
    commit_all(repo, "v2")
    proc = mlv("diff", "HEAD~1", "HEAD", "--key", "id", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    text = out(proc)
    assert "data/dup.csv by id: 0 added, 0 removed, 2 changed, 0 unchanged" in text
    # the second "a" is "a.2": "a.1" is a column of the file already
    assert "changed  id=1: a.2 3 -> 5\n" in text and "changed  id=2: a.1 y -> z\n" in text
    assert "data/twice.csv by id: 0 added, 0 removed, 1 changed, 1 unchanged" in text  # the first "id"
    assert "changed  id=2: id.1 8 -> 9\n" in text
    rows = json.loads(out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", "--json", "data/dup.csv",
                              cwd=repo)))["files"][0]["rows"]
    assert rows["compared_columns"] == ["a", "a.2", "a.1"]


def test_a_latin1_column_shows_its_values(repo: Path) -> None:
    # Excel on Windows writes CSV in Windows-1252: not UTF-8, so pyarrow reads the column as
    # binary, and its summary said nothing but "nulls 0": a changed name was invisible in git diff
    write(repo / "data" / "people.csv", "id,name\n1,café\n2,naïve\n3,café\n".encode("cp1252"))
    commit_all(repo, "v1")
    write(repo / "data" / "people.csv", "id,name\n1,café\n2,Zoë\n3,café\n".encode("cp1252"))
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert ' name distinct 2\n name top "caf\\\\xe9" 2\n' in d
    # the summary's last facts: git groups them with the closing sha256 lines
    assert '-name top "na\\\\xefve" 1\n-sha256 ' in d and '+name top "Zo\\\\xeb" 1\n+sha256 ' in d


def test_a_header_without_a_line_end_is_a_table_of_no_rows(repo: Path) -> None:
    # what ",".join(columns) written to a file, or an export of no rows, leaves: pyarrow refuses
    # one line with no line end ("Empty CSV file or block"), the reader took it for a line longer
    # than a block and grew the block until it overflowed: "internal error: OverflowError: value
    # too large to convert to int32_t", and git diff stopped ("unable to read files to diff")
    write(repo / "data" / "h.csv", b"id,v")
    write(repo / "data" / "s.csv", b"\xef\xbb\xbfid;name;v")
    commit_all(repo, "v1")
    write(repo / "data" / "h.csv", b"id,v\n1,2")
    write(repo / "data" / "s.csv", b"\xef\xbb\xbfid;name;v\n1;a;2,5\n")
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "-rows 0\n" in d and "+rows 1\n" in d and "-column id null\n" in d and "+column id int64\n" in d
    assert ' columns 3\n-column id null\n-column name null\n-column v null\n' in d  # the ; one
    text = out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", cwd=repo))
    assert "data/h.csv by id: 1 added, 0 removed, 0 changed, 0 unchanged" in text
    assert "data/s.csv by id: 1 added, 0 removed, 0 changed, 0 unchanged" in text
    assert "unreadable" not in text


def test_a_latin1_table_in_a_keyed_diff(repo: Path) -> None:
    # a Latin-1 key on one side only (ids were numbers, then names) stopped git mlv diff --key with
    # "internal error: ArrowInvalid: Invalid UTF8 payload" (the binary side cast to text), and
    # values of bytes were shown as Python writes them: b'caf\\xe9'
    write(repo / "data" / "k.csv", "id,name\n1,café\n2,b\n".encode("cp1252"))
    commit_all(repo, "v1")
    write(repo / "data" / "k.csv", "id,name\n1,cafés\n2,b\n3,é\n".encode("cp1252"))
    commit_all(repo, "v2")
    write(repo / "data" / "k.csv", "id,name\n1,x\né,y\n".encode("cp1252"))
    commit_all(repo, "v3")
    text = out(mlv("diff", "HEAD~2", "HEAD~1", "--key", "id", cwd=repo))
    assert "changed  id=1: name caf\\\\xe9 -> caf\\\\xe9s\n" in text
    assert "added    id=3 name=\\\\xe9\n" in text
    report = json.loads(out(mlv("diff", "HEAD~2", "HEAD~1", "--key", "id", "--json", cwd=repo)))
    rows = report["files"][0]["rows"]
    assert rows["changed_rows"] == [{"id": 1, "changes": {"name": ["caf\\xe9", "caf\\xe9s"]}}]
    proc = mlv("diff", "HEAD~1", "HEAD", "--key", "id", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "data/k.csv by id: 1 added, 2 removed, 1 changed, 0 unchanged" in out(proc)
    assert "added    id=\\\\xe9 name=y\n" in out(proc)
