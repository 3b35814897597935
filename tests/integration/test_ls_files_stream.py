"""`git mlv ls-files` prints batch by batch (ls_files.ls_files_batches, render.print_json_list): its
memory follows a batch, not the number of tracked files (before: every file's FileInfo held and
sorted, then the whole JSON text built: 107 MB, 139 MB with --json, at 100,000 files; 81 MB
after), and it prints the same text as before.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

import pytest

from git_mlv.cli import cmd_ls_files
from git_mlv.cli.render import print_json
from git_mlv.gitio import walk
from tests.helpers import commit_all, git, mlv, out, random_bytes, write
from tests.integration.test_flat_memory import BATCH, LARGE, SMALL, commit_pointers, peak_of

# Python objects per file (before): ~600 bytes a file here; a batch's do not grow with the files
MAX_BYTES = 100


def ls(repo: Path, *words: str, json_out: bool = False) -> str:
    """`git mlv ls-files` in process (so walk batches can be made small): its stdout."""
    buf = io.StringIO()
    cwd = os.getcwd()
    os.chdir(repo)
    old, sys.stdout = sys.stdout, buf
    try:
        assert cmd_ls_files.run(argparse.Namespace(words=list(words), json=json_out, full_name=False)) == 0
    finally:
        sys.stdout = old
        os.chdir(cwd)
    return buf.getvalue()


def test_ls_files_in_batches_prints_what_it_did(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"data/{d}/f{i}.bin": random_bytes(200, seed=10 * ord(d) + i) for d in "zab" for i in range(4)}
    files["data/a/f0 copy.bin"] = files["data/b/f1.bin"]
    for path, data in files.items():
        write(repo / path, data)
    commit_all(repo, "data")
    monkeypatch.setattr(walk, "_BATCH", 3)
    for words in ((), ("HEAD",)):
        text = ls(repo, *words)
        assert text == out(mlv("ls-files", *words, cwd=repo))
        assert [line[27:] for line in text.splitlines()] == sorted(files)
        listed = ls(repo, *words, json_out=True)
        as_before = io.StringIO()
        print_json(json.loads(listed), as_before)
        assert listed == as_before.getvalue() == out(mlv("ls-files", "--json", *words, cwd=repo))
        assert [f["path"] for f in json.loads(listed)] == sorted(files)
        assert all(f["present"] for f in json.loads(listed))
    # a path that names nothing: the error alone, nothing listed before it
    p = mlv("ls-files", "data/a", "data/nope", cwd=repo, check=False)
    assert p.returncode == 2 and p.stdout == b"" and b"data/nope" in p.stderr


def test_ls_files_of_nothing(repo: Path) -> None:
    git("commit", "-q", "--allow-empty", "-m", "empty", cwd=repo)
    assert out(mlv("ls-files", "--json", cwd=repo)) == "[]\n"
    assert out(mlv("ls-files", cwd=repo)) == ""


def test_ls_files_memory_follows_the_batch(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walk, "_BATCH", BATCH)
    monkeypatch.setattr(walk, "_READ", 1 << 13)
    monkeypatch.setattr("git_mlv.gitio.git.RECORDS_READ", 1 << 13)  # git's output 8 KB at a time
    monkeypatch.setattr("git_mlv.core.idarray.BATCH", BATCH)
    git("commit", "-q", "--allow-empty", "-m", "base", cwd=repo)
    base = out(git("rev-parse", "HEAD", cwd=repo)).strip()
    small = commit_pointers(repo, 0, SMALL)
    git("reset", "-q", "--soft", base, cwd=repo)
    large = commit_pointers(repo, 0, LARGE)
    peaks: dict[tuple[str, bool], int] = {}
    with open(os.devnull, "w") as sink:
        monkeypatch.setattr(sys, "stdout", sink)
        monkeypatch.chdir(repo)
        for tip in (small, large):
            git("read-tree", tip, cwd=repo)  # the index (no data, nothing checked out)
            for as_json in (False, True):
                args = argparse.Namespace(words=[], json=as_json, full_name=False)
                cmd_ls_files.run(args)  # warm: imports and the pointer cache
                peaks[tip, as_json] = peak_of(lambda a=args: cmd_ls_files.run(a))  # type: ignore[misc]
    for as_json in (False, True):
        per_file = (peaks[large, as_json] - peaks[small, as_json]) / (LARGE - SMALL)
        assert per_file < MAX_BYTES, f"ls-files{' --json' * as_json}: {per_file:.0f} B/file"
