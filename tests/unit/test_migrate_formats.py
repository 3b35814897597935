"""The formats migrations read: git-lfs pointers and attributes, DVC files, fast-export paths."""

from __future__ import annotations

import hashlib
import json

import pytest

from git_mlv.gitio.attributes import with_patterns
from git_mlv.gitio.fastexport import quote, unquote
from git_mlv.ops.migrate_dvcdata import gitignore_without
from git_mlv.ops.migrate_dvcfiles import (
    DvcFormatError,
    dir_md5,
    dvc_cache_dir,
    file_md5,
    parse_dvc_config,
    parse_dvc_file,
    parse_dvc_lock,
    parse_dvc_yaml,
)
from git_mlv.ops.migrate_lfs import lfs_attributes, parse_lfs_pointer
from git_mlv.ops.migrate_rewrite import MigrateError

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"


def test_lfs_pointer() -> None:
    text = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12345\n".encode()
    assert parse_lfs_pointer(text) == (OID, 12345)
    ext = (b"version https://git-lfs.github.com/spec/v1\next-0-foo sha256:" + b"0" * 64
           + f"\noid sha256:{OID}\nsize 7\n".encode())
    assert parse_lfs_pointer(ext) == (OID, 7)
    # as git-lfs 3.3 reads them (`git lfs pointer --check`, `git lfs smudge`; 895b073): a size
    # with a leading zero and a pointer without its final newline are pointers; a negative size,
    # a size that is no number and a short oid are not
    assert parse_lfs_pointer(text.replace(b"size 12345", b"size 012")) == (OID, 12)
    assert parse_lfs_pointer(text[:-1]) == (OID, 12345)
    assert parse_lfs_pointer(text.replace(b"size 12345", b"size -1")) is None
    assert parse_lfs_pointer(text.replace(b"size 12345", b"size x")) is None
    assert parse_lfs_pointer(text.replace(OID.encode(), OID[:-1].encode())) is None
    assert parse_lfs_pointer(b"plain data\n") is None


def test_lfs_attributes() -> None:
    old = (b"# big\n*.bin filter=lfs diff=lfs merge=lfs -text\n*.txt text\n"
           b"data/** filter=lfs diff=lfs merge=lfs\n")
    new = lfs_attributes(old).decode()
    assert "*.bin filter=mlv diff=mlv merge=mlv -text" in new
    assert "data/** filter=mlv diff=mlv merge=mlv -text" in new
    assert "*.txt text" in new and "# big" in new and "lfs" not in new
    assert lfs_attributes(new.encode()) == new.encode()  # a second run changes nothing


def test_with_patterns_is_idempotent() -> None:
    once = with_patterns(b"*.txt text\n", ["*.bin", "my file.h5"], ["small/*.bin"])
    assert once == with_patterns(once, ["*.bin", "my file.h5"], ["small/*.bin"])
    assert b"my[[:space:]]file.h5 filter=mlv" in once and b"small/*.bin !filter" in once


def test_fast_export_paths() -> None:
    assert unquote(b'"d/sp ace \\303\\251\\n\\"q\\".bin"') == 'd/sp ace é\n"q".bin'.encode()
    for raw in (b"plain/path", b'"starts with quote', b"new\nline", b"back\\slash"):
        assert unquote(quote(raw)) == raw


def test_dvc_files() -> None:
    outs = parse_dvc_file("sub/data.dvc", b"outs:\n- md5: " + b"a" * 32 + b".dir\n  size: 3\n  hash: md5\n"
                          b"  path: data\n")
    assert outs[0].path == "sub/data" and outs[0].hash and outs[0].hash.is_dir and not outs[0].hash.legacy
    stages = parse_dvc_yaml("p/dvc.yaml", b"""stages:
  s:
    cmd: [a, b]
    wdir: w
    deps: [x]
    params: [k, {other.yaml: [m]}, {whole.yaml: }]
    outs: [o, {n: {cache: false}}]
    metrics: [{m.json: {cache: false}}]
    plots: [pl.csv]
""")
    st = stages[0]
    assert st.cmd == "a && b" and st.wdir == "p/w" and st.deps == ["p/w/x"]
    assert st.params == ["p/w/params.yaml:k", "p/w/other.yaml:m", "p/w/whole.yaml"]
    assert [(o.path, o.kind, o.cache) for o in st.outs] == [
        ("p/w/o", "out", True), ("p/w/n", "out", False), ("p/w/m.json", "metric", False),
        ("p/w/pl.csv", "plot", True)]
    lock = parse_dvc_lock("p/dvc.lock", b"schema: '2.0'\nstages:\n  s:\n    cmd: a && b\n    deps:\n"
                          b"    - path: x\n      md5: " + b"b" * 32 + b"\n      size: 1\n", stages)
    assert lock["s"].deps["p/w/x"].legacy  # no `hash: md5`: DVC 2's md5-dos2unix
    foreach = b"stages:\n  s:\n    foreach: [1, 2]\n    do:\n      cmd: x ${item}\n"
    generated = parse_dvc_yaml("dvc.yaml", foreach)
    assert [(g.name, g.dvc_name, g.cmd) for g in generated] == [("s-1", "s@1", "x 1"), ("s-2", "s@2", "x 2")]
    with pytest.raises(MigrateError):  # items from params.yaml: not written out
        parse_dvc_yaml("dvc.yaml", b"stages:\n  s:\n    foreach: ${xs}\n    do: {cmd: x}\n")
    with pytest.raises(DvcFormatError):
        parse_dvc_file("x.dvc", b"outs:\n- path: ../../outside\n")


def test_dvc_hashes() -> None:
    entries = [("b.txt", "2" * 32), ("a.txt", "1" * 32)]
    want = json.dumps([{"md5": "1" * 32, "relpath": "a.txt"}, {"md5": "2" * 32, "relpath": "b.txt"}],
                      sort_keys=True)
    assert dir_md5(entries) == hashlib.md5(want.encode()).hexdigest()
    assert file_md5([b"a\r\nb\r\n"], legacy=True) == hashlib.md5(b"a\nb\n").hexdigest()
    assert file_md5([b"a\r\n\0"], legacy=True) == hashlib.md5(b"a\r\n\0").hexdigest()  # binary: as is
    assert file_md5([b"a\r\n"], legacy=False) == hashlib.md5(b"a\r\n").hexdigest()


def test_dvc_config_and_gitignore() -> None:
    remotes, default = parse_dvc_config("[core]\n    remote = store\n['remote \"store\"']\n    url = s3://b/p\n"
                                        "['remote \"other\"']\n    url = ../elsewhere\n")
    assert remotes == {"store": "s3://b/p", "other": "../elsewhere"} and default == "store"
    shared = dvc_cache_dir(["[cache]\n    dir = ../shared-cache\n", "[core]\n    remote = x\n"])
    assert shared == "../shared-cache"
    assert dvc_cache_dir(["[core]\n    remote = x\n"]) is None
    assert gitignore_without(b"/data\n/model.pkl\n*.log\n", {"data", "model.pkl"}) == b"*.log\n"
    assert gitignore_without(b"/data\n", {"data"}) == b""
    assert gitignore_without(b"data\n", {"data"}) == b"data\n"  # not a line DVC wrote
