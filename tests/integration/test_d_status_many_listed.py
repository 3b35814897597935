"""`git mlv status` names, of the files it lists, those whose ``text`` attribute overrides
git-mlv's ``-text``; it asked `git check-attr` about every file listed, and a dataset just
committed, not yet on the data remote, lists every file: ~11 s of a 68 s status at 1,000,000
files. Above ops/status.py's ``_ATTR_ASK_MAX`` files listed it first reads the attributes files
(gitio/attributes.may_set_text) and asks git only when one may set ``text``.

The tests count the paths git is asked about, not time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.gitio import attributes
from git_mlv.ops import status
from git_mlv.ops.context import Workspace
from tests.helpers import commit_all, origin_and_store, random_bytes, write

FILES = {f"data/f{i:02d}.bin": random_bytes(2_000 + i, seed=700 + i) for i in range(12)}


@pytest.fixture
def unpushed(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Data files committed, a default data remote that holds none of them; status's threshold
    lowered so that a dozen files count as many."""
    origin_and_store(repo, tmp_path, files=0)
    for path, content in FILES.items():
        write(repo / path, content)
    commit_all(repo, "data")
    monkeypatch.setattr(status, "_ATTR_ASK_MAX", 4, raising=False)
    return repo


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths `git check-attr` is asked about."""
    asked: list[str] = []
    real = attributes._check_attrs

    def spy(repo: object, attrs: object, paths: list[str]):  # type: ignore[no-untyped-def]
        asked.extend(paths)
        return real(repo, attrs, paths)  # type: ignore[arg-type]

    monkeypatch.setattr(attributes, "_check_attrs", spy)
    return asked


def _status(repo: Path) -> status.Status:
    with Workspace.discover(str(repo)) as ws:
        return status.status_and_commits(ws)[0]


def test_no_line_sets_text_so_git_is_not_asked(unpushed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _asked(monkeypatch)
    st = _status(unpushed)
    assert sorted(st.not_on_remote) == sorted(FILES) and st.text_attribute == []
    assert asked == []  # before: every file listed (12)


@pytest.mark.parametrize("line", [b"data/f0[1-3].bin text\n", b"[attr]lines text\ndata/f0[1-3].bin lines\n"])
def test_a_line_that_sets_text_is_still_found(unpushed: Path, monkeypatch: pytest.MonkeyPatch,
                                              line: bytes) -> None:
    with open(unpushed / ".gitattributes", "ab") as f:
        f.write(line)
    asked = _asked(monkeypatch)
    st = _status(unpushed)
    assert st.text_attribute == ["data/f01.bin", "data/f02.bin", "data/f03.bin"]
    assert sorted(FILES) == sorted(set(asked) & set(FILES))


def test_an_untracked_attributes_file_in_a_folder_counts(unpushed: Path) -> None:
    write(unpushed / "data" / ".gitattributes", b"f05.bin text\n")
    assert _status(unpushed).text_attribute == ["data/f05.bin"]


def test_files_not_on_the_remote_are_found_in_one_walk(unpushed: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from git_mlv.ops import verified

    walks: list[list[str]] = []
    real = verified._pointer_batches

    def spy(ws, tips, ver, skipped=None):  # type: ignore[no-untyped-def]
        walks.append(list(tips))
        return real(ws, tips, ver, skipped)

    monkeypatch.setattr(verified, "_pointer_batches", spy)
    with Workspace.discover(str(unpushed)) as ws:
        st, unpushed_commits = status.status_and_commits(ws)
    assert unpushed_commits is not None and unpushed_commits.files == len(FILES)
    assert [c[1] for c in unpushed_commits.commits] == ["data"]
    assert len(walks) == 1  # 2: pointers_since, then blobs_pointing_to over the same objects
