"""The textconv summary cache (docs/formats.md#summary-cache): kept by content and format, read
back instead of parsed again, never for a pointer, nowhere outside a repository."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from git_mlv.inspect import summarize
from git_mlv.ops import summarycache
from tests.helpers import git

_POINTER = (b"version https://git-mlv.dev/spec/v1\n"
            b"oid sha256:" + b"ab" * 32 + b"\nsize 123456\n")


def _closed(path: Path) -> str:
    """The summary git diff shows: the reader's text, ended by the file's sha256."""
    return summarize(str(path)).text() + f"sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}\n"


def _entries(top: Path) -> list[Path]:
    return sorted(p for p in (top / ".git" / "mlv" / "summaries").rglob("*") if p.is_file())


@pytest.fixture
def top(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository's worktree top as the current directory, as git runs textconv."""
    git("init", "-q", str(tmp_path / "r"), cwd=tmp_path)
    monkeypatch.chdir(tmp_path / "r")
    return tmp_path / "r"


def test_a_table_summary_is_kept_and_read_back(top: Path) -> None:
    f = top / "t.csv"
    f.write_text("id,x\n1,0.5\n2,1.5\n")
    text = summarycache.summary_text(str(f))
    assert text == _closed(f) and "rows 2" in text
    (entry,) = _entries(top)
    assert entry.read_text() == text
    entry.write_text("format csv\nfrom the cache\n")  # read back, not parsed again
    assert summarycache.summary_text(str(f)) == "format csv\nfrom the cache\n"
    # other bytes, or the same bytes read as another format: another entry
    f.write_text("id,x\n1,0.5\n2,1.5\n3,2.5\n")
    assert "rows 3" in summarycache.summary_text(str(f))
    tsv = top / "t.tsv"
    tsv.write_text("id,x\n1,0.5\n2,1.5\n")
    summarycache.summary_text(str(tsv))
    assert len(_entries(top)) == 3


def test_a_linked_worktree_keeps_them_in_the_common_git_dir(top: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (top / "a").write_text("x")
    git("add", "a", cwd=top)
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "a", cwd=top)
    git("worktree", "add", "-q", str(tmp_path / "wt"), cwd=top)
    monkeypatch.chdir(tmp_path / "wt")
    (tmp_path / "wt" / "t.csv").write_text("id\n1\n")
    summarycache.summary_text(str(tmp_path / "wt" / "t.csv"))
    assert len(_entries(top)) == 1


def test_pointers_and_plain_bytes_are_not_kept(top: Path) -> None:
    p = top / "t.csv"
    p.write_bytes(_POINTER)  # data not here: its summary must not outlive that
    assert summarycache.summary_text(str(p)).startswith("format pointer")
    b = top / "m.bin"
    b.write_bytes(b"\x00\x01" * 1000)
    assert summarycache.summary_text(str(b)) == summarize(str(b)).text()
    assert _entries(top) == []


def test_outside_a_repository_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "t.csv"
    f.write_text("id\n1\n")
    assert summarycache.summary_text(str(f)) == _closed(f)
    assert not list(tmp_path.rglob("summaries"))
