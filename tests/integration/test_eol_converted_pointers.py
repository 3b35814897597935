"""Pointers whose line ends git converted: a folder's own `.gitattributes` saying `*.csv text`
overrides git-mlv's `-text`, and with core.autocrlf=true (Git for Windows' default) git turns the
pointer's LFs into CRLFs before the smudge filter sees it. The CSV was checked out as pointer text;
`git mlv status` called it "Modified (not staged)", and `git commit -a` stored that pointer text as
the file's data (the smudge side belongs to ops/filter.py; status now names the files, the cause and
the way back)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write

CSV = b"a,b\n" + b"1,2\n" * 5000


def test_status_names_pointers_git_converted_to_crlf(repo: Path) -> None:
    write(repo / "data" / "y.csv", CSV)
    write(repo / "data" / ".gitattributes", b"*.csv text\n")
    commit_all(repo, "v1")
    git("config", "core.autocrlf", "true", cwd=repo)
    (repo / "data" / "y.csv").unlink()
    git("checkout", "--", "data/y.csv", cwd=repo)
    assert (repo / "data" / "y.csv").read_bytes().startswith(b"version https://git-mlv.dev/spec/v1\r\n")

    text = out(mlv("status", "--no-remote", cwd=repo))
    assert "Pointer text with CRLF line ends, not data" in text, text
    assert "  data/y.csv\n" in text and "`git checkout -- PATH` writes their data" in text, text
    assert "Modified (not staged)" not in text, text
    st = json.loads(out(mlv("status", "--json", "--no-remote", cwd=repo)))
    assert st["converted_pointers"] == ["data/y.csv"] and st["modified"] == [], st

    # what the line says to do brings the data back, and git status is clean
    write(repo / "data" / ".gitattributes", b"*.csv text\n*.csv -text\n")
    git("checkout", "--", "data/y.csv", cwd=repo)
    assert (repo / "data" / "y.csv").read_bytes() == CSV
    git("commit", "-qam", "csv is data", cwd=repo)
    assert git("status", "--porcelain", cwd=repo).stdout == b""
    assert "Pointer text" not in out(mlv("status", "--no-remote", cwd=repo))


def test_a_real_edit_is_still_modified(repo: Path) -> None:
    write(repo / "data" / "y.csv", CSV)
    commit_all(repo, "v1")
    write(repo / "data" / "y.csv", CSV.replace(b"\n", b"\r\n"))  # a real edit to CRLF: data
    st = json.loads(out(mlv("status", "--json", "--no-remote", cwd=repo)))
    assert st["modified"] == ["data/y.csv"] and st["converted_pointers"] == [], st


def test_a_clone_with_autocrlf_gets_the_data(repo: Path, tmp_path: Path) -> None:
    """The clone's post-checkout hook (and `git mlv checkout`) take a converted pointer for the
    pointer it is and write the data: the clone holds the CSV, and git status is clean."""
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "y.csv", CSV)
    write(repo / "data" / ".gitattributes", b"*.csv text\n")
    commit_all(repo, "v1")
    mlv("push", "--all", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "-c", "core.autocrlf=true", str(repo), str(clone), cwd=tmp_path)
    assert (clone / "data" / "y.csv").read_bytes() == CSV
    assert git("status", "--porcelain", cwd=clone).stdout == b""

    (clone / "data" / "y.csv").unlink()
    git("checkout", "--", "data/y.csv", cwd=clone)  # a file checkout: the hook leaves it to us
    assert (clone / "data" / "y.csv").read_bytes() != CSV
    mlv("checkout", cwd=clone)
    assert (clone / "data" / "y.csv").read_bytes() == CSV
    assert git("status", "--porcelain", cwd=clone).stdout == b""


def test_a_checkout_with_autocrlf_ends_with_the_data(repo: Path) -> None:
    """`git checkout v1` on such a machine: the filter writes v1's pointer as text, as it came;
    its smudge record now hands over to the post-checkout hook, which writes the data."""
    write(repo / "data" / ".gitattributes", b"*.csv text\n")
    write(repo / "data" / "y.csv", CSV)
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    write(repo / "data" / "y.csv", CSV + b"3,4\n")
    commit_all(repo, "v2")
    git("config", "core.autocrlf", "true", cwd=repo)
    for rev, want in (("v1", CSV), ("main", CSV + b"3,4\n")):
        git("checkout", "-q", rev, cwd=repo)
        assert (repo / "data" / "y.csv").read_bytes() == want
        assert git("status", "--porcelain", cwd=repo).stdout == b""
