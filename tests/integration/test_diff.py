"""Data that reads like data: `git diff` / `git log -p` through the textconv driver, and
`git mlv diff` between revisions and the work tree (real git, real files)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, out, random_bytes, run, write


def csv_rows(ids: range, scale: float = 1.0) -> str:
    return "".join(f"{i},{(i * 37 % 1000) * scale / 10:.1f},name{i % 13}\n" for i in ids)


def table(rows: str) -> bytes:
    return ("id,value,label\n" + rows).encode()


def test_git_diff_of_a_csv_shows_appended_rows_and_the_moved_mean(repo: Path) -> None:
    write(repo / "data" / "train.csv", table(csv_rows(range(3000))))
    commit_all(repo, "v1")
    git("tag", "v1.0", cwd=repo)
    write(repo / "data" / "train.csv", table(csv_rows(range(3000)) + csv_rows(range(3000, 3500), 2.0)))
    commit_all(repo, "v2")
    diff = out(git("diff", "v1.0", "HEAD", "--", "data/train.csv", cwd=repo))
    for line in ("-rows 3000", "+rows 3500", "-value mean 49.95", "+value mean 57.142857", "-id max 2999",
                 "+id max 3499"):
        assert f"\n{line}\n" in diff, line
    assert "\n column value double\n" in diff  # the schema did not change: context lines only
    assert "\n+column" not in diff and "\n-column" not in diff


def safetensors(tensors: dict[str, list[float]]) -> bytes:
    header: dict[str, object] = {}
    blobs, offset = [], 0
    for name, values in tensors.items():
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": [len(values)], "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def test_git_log_p_shows_which_tensors_changed(repo: Path) -> None:
    git("config", "diff.mlv.cachetextconv", "false", cwd=repo)
    base = {"layer0.weight": [0.1] * 3000, "layer1.weight": [0.2] * 3000, "head.bias": [0.0] * 10}
    write(repo / "model.safetensors", safetensors(base))
    mlv("track", "*.safetensors", cwd=repo)
    commit_all(repo, "v1")
    tuned = dict(base, **{"head.bias": [0.5] * 10})
    write(repo / "model.safetensors", safetensors(tuned))
    commit_all(repo, "fine-tune the head")
    log = out(git("log", "-p", "--format=commit %s", "--", "model.safetensors", cwd=repo))
    first, second = log.split("commit v1")
    assert "\n-head.bias mean 0\n" in first and "\n+head.bias mean 0.5\n" in first
    assert "\n-head.bias max 0.0\n" in first and "\n+head.bias max 0.5\n" in first
    assert "layer0.weight mean" not in first.split("@@", 1)[1].replace(" layer0", "")  # unchanged tensor
    assert "+tensor layer0.weight F32 [3000]\n" in second  # the first commit adds the whole summary


def test_textconv_of_missing_data_says_how_to_get_it(repo: Path, tmp_path: Path) -> None:
    write(repo / "data" / "t.csv", table(csv_rows(range(100))))
    commit_all(repo, "v1")
    write(repo / "data" / "t.csv", table(csv_rows(range(200))))
    commit_all(repo, "v2")
    clone = tmp_path / "clone"  # no data remote: the clone gets pointers, with a warning
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    diff = out(git("diff", "HEAD~1", "HEAD", "--", "data/t.csv", cwd=clone))
    assert "\n format pointer\n" in diff and "git mlv fetch --all" in diff  # both sides: pointers
    assert "\n-size 1417 (1.4 KiB)\n" in diff and "\n+size 2933 (2.9 KiB)\n" in diff


def test_mlv_diff_lists_files_with_sizes_and_table_shapes(repo: Path) -> None:
    write(repo / "data" / "t.csv", table(csv_rows(range(100))))
    write(repo / "data" / "gone.bin", random_bytes(3000, 1))
    write(repo / "data" / "moved.bin", random_bytes(5000, 2))
    write(repo / "notes.txt", b"plain git file\n")
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    write(repo / "data" / "t.csv", ("id,value,label,extra\n" + "".join(
        f"{i},{i}.5,n,{i}\n" for i in range(120))).encode())
    (repo / "data" / "gone.bin").unlink()
    git("mv", "data/moved.bin", "data/renamed.bin", cwd=repo)
    write(repo / "data" / "new.bin", random_bytes(7000, 3))
    write(repo / "notes.txt", b"changed, not data\n")
    commit_all(repo, "v2")
    res = json.loads(out(mlv("diff", "v1", "HEAD", "--json", cwd=repo)))
    by_path = {f["path"]: f for f in res["files"]}
    assert {p: f["status"] for p, f in by_path.items()} == {
        "data/gone.bin": "deleted", "data/new.bin": "added", "data/renamed.bin": "renamed",
        "data/t.csv": "modified"}
    assert by_path["data/renamed.bin"]["old"]["path"] == "data/moved.bin"
    assert by_path["data/new.bin"]["new"]["size"] == 7000 and by_path["data/gone.bin"]["old"]["size"] == 3000
    t = by_path["data/t.csv"]["table"]
    assert (t["old_rows"], t["new_rows"]) == (100, 120)
    assert t["added_columns"] == [["extra", "int64"]]
    assert t["retyped_columns"] == [["value", "double", "double"]] or t["retyped_columns"] == []
    text = out(mlv("diff", "v1", "HEAD", cwd=repo))
    assert "modified  data/t.csv" in text and "100 -> 120 (+20)" in text
    assert "data/moved.bin -> data/renamed.bin" in text
    assert "1 added, 1 deleted, 1 modified, 1 renamed" in text
    md = out(mlv("diff", "v1", "HEAD", "--md", cwd=repo))
    assert "| modified | `data/t.csv` |" in md
    # a path limits the diff; the work tree is the default second side
    write(repo / "data" / "new.bin", random_bytes(100, 4))
    only = json.loads(out(mlv("diff", "--json", "data/new.bin", cwd=repo)))
    assert [(f["path"], f["status"], f["new"]["rev"]) for f in only["files"]] == [
        ("data/new.bin", "modified", "worktree")]
    assert "No data changes" in out(mlv("diff", "HEAD", "HEAD", cwd=repo))


def test_mlv_diff_key_finds_exactly_the_rows_changed_added_and_removed(repo: Path) -> None:
    old = {i: (f"{i * 0.5:.1f}", f"name{i % 7}") for i in range(5000)}
    new = dict(old)
    for i in (10, 2222, 4999):
        new[i] = (old[i][0], "renamed")
    for i in (7, 3000):
        del new[i]
    for i in (5000, 5001, 9999):
        new[i] = ("1.0", "fresh")
    write(repo / "data" / "t.csv", ("id,value,label\n" + "".join(
        f"{i},{v},{n}\n" for i, (v, n) in old.items())).encode())
    commit_all(repo, "v1")
    order = sorted(new, key=lambda i: (i * 7919) % 10007)  # rows also move around: order must not matter
    write(repo / "data" / "t.csv", ("id,value,label\n" + "".join(
        f"{i},{new[i][0]},{new[i][1]}\n" for i in order)).encode())
    commit_all(repo, "v2")
    res = json.loads(out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", "--rows", "10", "--json", cwd=repo)))
    rows = res["files"][0]["rows"]
    assert (rows["added"], rows["removed"], rows["changed"], rows["unchanged"]) == (3, 2, 3, 4995)
    assert [r["id"] for r in rows["added_rows"]] == [5000, 5001, 9999]
    assert [r["id"] for r in rows["removed_rows"]] == [7, 3000]
    assert rows["changed_rows"] == [
        {"id": i, "changes": {"label": [old[i][1], "renamed"]}} for i in (10, 2222, 4999)]
    text = out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", "--rows", "1", cwd=repo))
    assert "data/t.csv by id: 3 added, 2 removed, 3 changed, 4995 unchanged" in text
    assert "  changed  id=10: label name3 -> renamed" in text
    # a key that is not unique is named, not silently mismatched
    dup = out(mlv("diff", "HEAD~1", "HEAD", "--key", "label", cwd=repo))
    assert "not unique" in dup and "label" in dup


def test_mlv_diff_reports_data_that_is_not_here(repo: Path, tmp_path: Path) -> None:
    write(repo / "data" / "t.csv", table(csv_rows(range(10))))
    commit_all(repo, "v1")
    write(repo / "data" / "t.csv", table(csv_rows(range(20))))
    commit_all(repo, "v2")
    clone = tmp_path / "clone"
    git("clone", "-q", "--no-checkout", str(repo), str(clone), cwd=tmp_path)
    text = out(mlv("diff", "HEAD~1", "HEAD", cwd=clone))
    assert "modified  data/t.csv" in text and "not here" in text and "git mlv fetch" in text


def test_mlv_diff_errors_are_one_line(repo: Path) -> None:
    proc = mlv("diff", cwd=repo, check=False)
    assert proc.returncode != 0 and proc.stderr.decode().count("\n") == 1
    assert b"no commit yet" in proc.stderr
    write(repo / "data" / "a.bin", b"x" * 100)
    commit_all(repo, "one")
    proc = mlv("diff", "HEAD", "no-such-rev-or-path", cwd=repo, check=False)
    assert proc.returncode == 2 and b"neither a revision nor a path" in proc.stderr
    assert proc.stderr.decode().count("\n") == 1


@pytest.mark.slow
def test_a_1gb_csv_is_summarised_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    block = table(csv_rows(range(20_000))).split(b"\n", 1)[1]
    with open(path, "wb") as f:
        f.write(b"id,value,label\n")
        while f.tell() < 1_000_000_000:
            f.write(block)
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
             "sys.stdout.write(p.stdout.decode())\n"
             "print('maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.exit(p.returncode)\n")
    git_mlv = os.path.join(os.path.dirname(sys.executable), "git-mlv")
    res = run([sys.executable, "-c", probe, git_mlv, "textconv", str(path)], cwd=tmp_path)
    text = res.stdout.decode()
    rss_mb = int(text.rsplit("maxrss ", 1)[1]) / 1024
    rows = (path.stat().st_size - len(b"id,value,label\n")) // len(block) * 20_000
    assert f"rows {rows}\n" in text
    assert rss_mb <= 200, f"peak RSS {rss_mb:.0f} MB"
    path.unlink()
    subprocess.run(["true"])  # keep the import used on every platform
