"""`git archive` of a revision whose data is not here (real git): the archive holds pointer text,
and the filter's warnings said what a checkout's say, "the file stays a pointer until you run
`git mlv pull`", though the archive was written already and a pull changes nothing in it (found by
helper Q). The filter reads the git command it serves (gitio/caller.py) and says that the archive
holds the pointer text, and to archive again after the pull; a checkout's words are unchanged."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from git_mlv.gitio.caller import verb
from tests.helpers import commit_all, git, random_bytes, write


def test_archive_without_the_data_says_the_archive_holds_pointers(repo: Path, tmp_path: Path) -> None:
    write(repo / "w.bin", random_bytes(5000, seed=3))
    commit_all(repo, "v1")
    clone = tmp_path / "clone"
    git("clone", "-n", str(repo), str(clone), cwd=tmp_path)  # no data remote: the data stays there
    proc = git("-C", str(clone), "archive", "HEAD", cwd=tmp_path)
    err = proc.stderr.decode()
    assert "git-mlv: warning: data of 'w.bin' is not here; the archive holds its pointer text" in err, err
    assert "archived as pointer text" in err and "then archive again" in err, err
    assert "stays a pointer" not in err, err
    member = tarfile.open(fileobj=io.BytesIO(proc.stdout)).extractfile("w.bin")
    assert member is not None and member.read().startswith(b"version https://git-mlv.dev/spec/v1\n")
    err = git("checkout", "HEAD", "--", ".", cwd=clone).stderr.decode()  # a checkout: as before
    assert "data of 'w.bin' is not here; the file stays a pointer until you run `git mlv pull`" in err, err


def test_the_verb_of_a_git_command_line() -> None:
    assert verb(["-C", "repo", "-c", "a.b=c", "archive", "HEAD"]) == "archive"
    assert verb(["--git-dir=x", "--no-pager", "checkout", "v1"]) == "checkout"
    assert verb(["upload-archive--writer", "/srv/repo.git"]) == "upload-archive--writer"
    assert verb([]) is None and verb(None) is None and verb(["-C", "x"]) is None
