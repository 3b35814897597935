"""Pointers whose line ends git converted: a folder's own `.gitattributes` saying `*.csv text`
overrides git-mlv's `-text`, and with core.autocrlf=true (Git for Windows' default) git turns the
pointer's LFs into CRLFs before the smudge filter sees it. The CSV was checked out as pointer text;
`git mlv status` called it "Modified (not staged)", and `git commit -a` stored that pointer text as
the file's data. The filter now takes such text for the pointer it became (pointer-spec rule 8's
exception); status, the hooks and `git mlv checkout` still deal with files an older git-mlv left."""

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
    # what a checkout by an older git-mlv left: the pointer text as git converted it
    pointer = git("cat-file", "blob", "HEAD:data/y.csv", cwd=repo).stdout
    write(repo / "data" / "y.csv", pointer.replace(b"\n", b"\r\n"))

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
    git("checkout", "--", "data/y.csv", cwd=clone)  # a file checkout: no hook; the filter's data
    assert (clone / "data" / "y.csv").read_bytes() == CSV
    pointer = git("cat-file", "blob", "HEAD:data/y.csv", cwd=clone).stdout
    write(clone / "data" / "y.csv", pointer.replace(b"\n", b"\r\n"))  # left by an older git-mlv
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


def test_commands_that_run_no_hook_get_the_data(repo: Path) -> None:
    """The smudge takes the pointer git converted to CRLF for that pointer: `git reset --hard`,
    `git stash` and `cat-file --filters`, which run no post-checkout hook, give the data too."""
    write(repo / "data" / ".gitattributes", b"*.csv text\n")
    write(repo / "data" / "y.csv", CSV)
    commit_all(repo, "v1")
    git("config", "core.autocrlf", "true", cwd=repo)
    (repo / "data" / "y.csv").unlink()
    git("reset", "-q", "--hard", cwd=repo)
    assert (repo / "data" / "y.csv").read_bytes() == CSV
    write(repo / "data" / "y.csv", CSV + b"9,9\n")
    git("stash", "-q", cwd=repo)
    assert (repo / "data" / "y.csv").read_bytes() == CSV
    git("stash", "pop", "-q", cwd=repo)
    assert (repo / "data" / "y.csv").read_bytes() == CSV + b"9,9\n"
    assert git("cat-file", "--filters", "HEAD:data/y.csv", cwd=repo).stdout == CSV


def test_a_file_holding_converted_pointer_text_is_not_stored_as_data(repo: Path) -> None:
    """A work-tree file left as pointer text with CRLFs (by an older git-mlv): `git add` stages
    the pointer it is, not a new file whose data is that text."""
    write(repo / "data" / ".gitattributes", b"*.csv text\n")
    write(repo / "data" / "y.csv", CSV)
    commit_all(repo, "v1")
    staged = git("rev-parse", ":data/y.csv", cwd=repo).stdout
    pointer = git("cat-file", "blob", "HEAD:data/y.csv", cwd=repo).stdout
    write(repo / "data" / "y.csv", pointer.replace(b"\n", b"\r\n"))
    git("-c", "core.autocrlf=true", "add", "data/y.csv", cwd=repo)
    assert git("rev-parse", ":data/y.csv", cwd=repo).stdout == staged
    assert git("diff", "--cached", "--name-only", cwd=repo).stdout == b""
