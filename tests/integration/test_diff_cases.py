"""`git diff` and `git mlv diff --key` on the tables users actually have (real git): nested JSON
values, text with newlines and tabs, and CSV files from European Excel (';' between fields)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write


def test_key_diff_of_nested_json_values_reports_the_changed_rows(repo: Path) -> None:
    path = repo / "data" / "e.jsonl"
    write(path, b'{"id":1,"meta":{"a":1},"tags":["x"]}\n{"id":2,"meta":{"a":2},"tags":["y"]}\n')
    commit_all(repo, "v1")
    write(path, b'{"id":1,"meta":{"a":5},"tags":["x"]}\n{"id":2,"meta":{"a":2},"tags":["y","z"]}\n')
    proc = mlv("diff", "HEAD", "--key", "id", "data/e.jsonl", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    text = out(proc)
    assert "data/e.jsonl by id: 0 added, 0 removed, 2 changed, 0 unchanged" in text
    rows = json.loads(out(mlv("diff", "HEAD", "--key", "id", "--json", "data/e.jsonl", cwd=repo)))
    assert rows["files"][0]["rows"]["changed_rows"] == [
        {"id": 1, "changes": {"meta": [{"a": 1}, {"a": 5}]}},
        {"id": 2, "changes": {"tags": [["y"], ["y", "z"]]}},
    ]
    # a struct as the key: rows matched by its canonical JSON text
    proc = mlv("diff", "HEAD", "--key", "meta", "--json", "data/e.jsonl", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    r = json.loads(out(proc))["files"][0]["rows"]
    assert (r["added"], r["removed"], r["changed"], r["unchanged"]) == (1, 1, 1, 0)
    assert r["changed_rows"] == [{"meta": '{"a": 2}', "changes": {"tags": [["y"], ["y", "z"]]}}]


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


def test_key_diff_text_shows_values_escaped_and_nested_values_as_json(repo: Path) -> None:
    """The row lines of `git mlv diff --key` print a changed value as the summaries do: an ESC or
    a newline in a cell never reaches the terminal raw, and a nested value reads as JSON."""
    path = repo / "data" / "e.jsonl"
    write(path, b'{"id":1,"note":"ok","meta":{"a":1}}\n')
    commit_all(repo, "v1")
    write(path, b'{"id":1,"note":"\\u001b[2Jgone\\nnow","meta":{"a":5}}\n')
    text = out(mlv("diff", "HEAD", "--key", "id", "data/e.jsonl", cwd=repo))
    assert "\x1b" not in text and "gone\nnow" not in text
    assert "\\u001b[2Jgone\\nnow" in text
    assert '{"a": 5}' in text and "{'a': 5}" not in text


def test_git_blame_of_a_table_blames_its_summary(repo: Path) -> None:
    """`git blame FILE` cleans textconv's summary of the work-tree file: stored as data, it became
    a pointer (every line "Not Committed Yet") and a junk object in the pool. The summary is kept
    as text: an unchanged file's lines all come from the commit, a changed one's new facts do not."""
    path = repo / "data" / "t.csv"
    write(path, b"id,x\n1,2\n3,4\n")
    commit_all(repo, "v1")
    lines = out(git("blame", "data/t.csv", cwd=repo)).splitlines()
    assert lines and "format csv" in lines[0]
    assert not [line for line in lines if line.startswith("00000000")]
    write(path, b"id,x\n1,2\n3,5\n")
    lines = out(git("blame", "data/t.csv", cwd=repo)).splitlines()
    new = [line for line in lines if line.startswith("00000000")]
    assert new and all("x " in line or ") sha256 " in line for line in new) and len(new) < len(lines)
    assert ") sha256 " in new[-1]  # the summary ends with the file's sha256, which moved too
    gc = out(mlv("gc", "--dry-run", cwd=repo))
    assert " 0 unreachable" in gc, gc  # nothing stored for blame


def test_a_file_taken_out_of_the_index_is_deleted_though_it_stays_on_disk(repo: Path) -> None:
    """`git rm --cached data/model.bin` (stop versioning it, keep the file): `git diff HEAD` says
    deleted; `git mlv diff HEAD` said "No data changes", since it read the file still at that path
    (found trying history surgery as a data scientist would)."""
    write(repo / "data" / "model.bin", b"\x00\x01" * 20_000)
    write(repo / "data" / "keep.bin", b"\x02\x03" * 20_000)
    commit_all(repo, "v1")
    git("rm", "-q", "--cached", "data/model.bin", cwd=repo)
    for args in (["diff", "HEAD"], ["diff"]):  # HEAD against the work tree (HEAD is the default)
        rows = json.loads(out(mlv(*args, "--json", cwd=repo)))["files"]
        assert [(f["status"], f["path"]) for f in rows] == [("deleted", "data/model.bin")], args
    git("commit", "-q", "-m", "model untracked", cwd=repo)
    rows = json.loads(out(mlv("diff", "HEAD~1", "--json", cwd=repo)))["files"]
    assert [(f["status"], f["path"]) for f in rows] == [("deleted", "data/model.bin")]
    (repo / "data" / "keep.bin").unlink()  # gone from disk only: deleted as before
    rows = json.loads(out(mlv("diff", "HEAD", "--json", cwd=repo)))["files"]
    assert [(f["status"], f["path"]) for f in rows] == [("deleted", "data/keep.bin")]


def test_a_file_moving_between_git_and_git_mlv_is_not_added_or_deleted(tmp_path: Path) -> None:
    """`migrate import --no-rewrite` turns a plain git file into a pointer, same bytes: `git mlv
    diff` called it "added" (and the way back "deleted", though the file was there all along).
    Same data is no change; other data is "modified", sizes only, saying which side git stores."""
    repo = tmp_path / "plain"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    table = b"id,v\n" + b"".join(b"%d,%d\n" % (i, i * 3) for i in range(500))
    write(repo / "t.csv", table)
    commit_all(repo, "plain git")
    mlv("migrate", "import", "--no-rewrite", "--include", "*.csv", cwd=repo)
    assert git("cat-file", "blob", "HEAD:t.csv", cwd=repo).stdout.startswith(b"version https://git-mlv")
    assert out(mlv("diff", "HEAD~1", "HEAD", cwd=repo)) == "No data changes from HEAD~1 to HEAD.\n"
    assert out(mlv("diff", "HEAD", "HEAD~1", cwd=repo)) == "No data changes from HEAD to HEAD~1.\n"
    # back to git, with a row more: modified, and said to be stored by git on that side
    write(repo / ".gitattributes", b"")
    write(repo / "t.csv", table + b"500,1500\n")
    git("rm", "-q", "--cached", "t.csv", cwd=repo)
    commit_all(repo, "back to git")
    rows = json.loads(out(mlv("diff", "HEAD~1", "HEAD", "--json", cwd=repo)))["files"]
    assert [(f["status"], f["path"], f["old"]["size"], f["new"]["size"]) for f in rows] == [
        ("modified", "t.csv", len(table), len(table) + 9)]
    assert rows[0]["note"] == "stored by git itself at HEAD: sizes only"


def test_a_git_file_newly_tracked_in_the_work_tree_is_not_added(tmp_path: Path) -> None:
    """`git mlv track '*.csv'` over a committed plain CSV, before `git add`: "added"."""
    repo = tmp_path / "plain"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    write(repo / "t.csv", b"id,v\n1,2\n")
    commit_all(repo, "plain git")
    mlv("track", "*.csv", cwd=repo)
    assert out(mlv("diff", cwd=repo)) == "No data changes from HEAD to worktree.\n"
    write(repo / "t.csv", b"id,v\n1,2\n3,4\n")
    rows = json.loads(out(mlv("diff", "--json", cwd=repo)))["files"]
    assert [(f["status"], f["old"]["size"], f["new"]["size"], f["note"]) for f in rows] == [
        ("modified", 9, 13, "stored by git itself at HEAD: sizes only")]
