"""A working-tree-encoding beside git-mlv's line (helper X's hunt): git converts what the clean
filter returns *from* that encoding, so the blob committed for a UTF-16 CSV was neither pointer nor
data; a push sent nothing for it and gc dropped its data. `git mlv track` now warns and says how to
keep the encoding off its files, and the advice works (real git)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.helpers import git, mlv, out

UTF16 = "id,label\n1,chat\n".encode("utf-16-le")


def test_track_names_files_git_would_re_encode(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    git("init", "-q", str(repo), cwd=tmp_path)
    (repo / ".gitattributes").write_text("*.csv text working-tree-encoding=UTF-16LE\n")
    (repo / "t.csv").write_bytes(UTF16)
    (repo / "m.bin").write_bytes(b"\0" * 100)
    p = mlv("track", "*.csv", "*.bin", cwd=repo)
    err = p.stderr.decode()
    assert "warning: 1 file(s) git-mlv tracks have a working-tree-encoding" in err and "(t.csv)" in err, err
    assert "-working-tree-encoding" in err
    # the advice: the encoding unset on git-mlv's line; the commit holds a pointer, bytes come back
    ours = "*.csv filter=mlv diff=mlv merge=mlv -text"
    attrs = (repo / ".gitattributes").read_text().replace(ours, ours + " -working-tree-encoding")
    (repo / ".gitattributes").write_text(attrs)
    assert "warning" not in mlv("track", "*.csv", cwd=repo).stderr.decode()
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    assert out(git("cat-file", "-p", "HEAD:t.csv", cwd=repo)).startswith("version https://git-mlv.dev/spec/v1")
    (repo / "t.csv").unlink()
    git("checkout", "t.csv", cwd=repo)
    assert hashlib.sha256((repo / "t.csv").read_bytes()).digest() == hashlib.sha256(UTF16).digest()


def test_no_encoding_no_warning_and_no_scan(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    git("init", "-q", str(repo), cwd=tmp_path)
    (repo / "t.csv").write_bytes(UTF16)
    assert "warning" not in mlv("track", "*.csv", cwd=repo).stderr.decode()
