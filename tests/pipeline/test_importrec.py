"""[import "OUT"] records in .gitmlv (docs/imports.md): exact text, round trip beside other
sections, the listing digest, and clear errors for broken records."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from git_mlv.gitio.git import Repo
from git_mlv.pipeline import importrec
from git_mlv.pipeline.importrec import ImportRecord, ImportRecordError, listing_digest
from tests.helpers import git

A = "a" * 64
B = "b" * 64


def _repo(tmp_path: Path, text: str) -> Repo:
    git("init", "-q", cwd=tmp_path)
    (tmp_path / ".gitmlv").write_text(text)
    return Repo.discover(str(tmp_path))


def test_listing_digest_is_the_documented_text_in_path_byte_order() -> None:
    files = [("sub/b.bin", 0o100755, B, 7), ("a b.txt", 0o100644, A, 0)]
    text = f"100644 {A} 0 a b.txt\n100755 {B} 7 sub/b.bin\n".encode()
    assert listing_digest(files) == "sha256:" + hashlib.sha256(text).hexdigest()
    assert listing_digest(reversed(files)) == listing_digest(files)
    assert listing_digest([("sub/b.bin", 0o100644, B, 7), files[1]]) != listing_digest(files)


def test_save_writes_canonical_sections_and_keeps_the_rest(tmp_path: Path) -> None:
    head = '[core]\n\tremote = store\n[remote "store"]\n\turl = /s\n[stage "t"]\n\tcmd = true\n'
    repo = _repo(tmp_path, head)
    recs = {
        "z.bin": ImportRecord("z.bin", "ssh://h/r.git", "m/z.bin", "c" * 40, 5, oid="sha256:" + A),
        "data dir": ImportRecord("data dir", "../src", "data", "d" * 40, 12, rev="v1", files=2,
                                 listing="sha256:" + B, extra=[("note", "kept")]),
    }
    importrec.save(repo, recs)
    text = (tmp_path / ".gitmlv").read_text()
    assert text == head + (
        f'[import "data dir"]\n\turl = ../src\n\tpath = data\n\trev = v1\n\tcommit = {"d" * 40}\n'
        f'\tfiles = 2\n\tsize = 12\n\tlisting = sha256:{B}\n\tnote = kept\n'
        f'[import "z.bin"]\n\turl = ssh://h/r.git\n\tpath = m/z.bin\n\tcommit = {"c" * 40}\n'
        f'\tsize = 5\n\toid = sha256:{A}\n')
    assert importrec.load(repo) == recs
    importrec.save(repo, importrec.load(repo))
    assert (tmp_path / ".gitmlv").read_text() == text


@pytest.mark.parametrize("body, message", [
    ("\turl = u\n\tpath = p\n\tsize = 1\n\toid = sha256:" + A, "needs commit"),
    ("\turl = u\n\tpath = p\n\tcommit = c\n", "exactly one of oid and listing"),
    ("\turl = u\n\turl = v\n\tpath = p\n\tcommit = c\n\toid = x", "url is given 2 times"),
    ("\turl = u\n\tpath = p\n\tcommit = c\n\toid = x\n\tsize = big", "must be numbers"),
])
def test_broken_records_are_named(tmp_path: Path, body: str, message: str) -> None:
    repo = _repo(tmp_path, f'[import "out"]\n{body}\n')
    with pytest.raises(ImportRecordError, match=message):
        importrec.load(repo)


def test_out_outside_the_work_tree_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, f'[import "../x"]\n\turl = u\n\tpath = p\n\tcommit = c\n\toid = {A}\n')
    with pytest.raises(ImportRecordError, match="outside the repository"):
        importrec.load(repo)
