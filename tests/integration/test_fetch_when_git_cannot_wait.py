"""Data of another revision in a fresh clone, asked for by commands that cannot wait for a file.

A clone holds the data of what it checked out. `git checkout v1.0` fetches the rest through the
filter's delay; `git diff v1.0` offered no delay, so its textconv showed "data not in the local
pool", and `git mlv diff v1.0 HEAD` said to `git mlv fetch` first (found following the README as a
new user). Now the filter fetches the one file git asks for (in the fetch scope), and `git mlv diff`
fetches the tables it compares, not the other files it only sizes.
"""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def _table(rows: int, changed: int | None = None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "x", "label"])
    for i in range(rows):
        w.writerow([i, 999.5 if i == changed else i * 0.25, "ab"[i % 2]])
    return buf.getvalue().encode()


@pytest.fixture
def origin(repo: Path, tmp_path: Path) -> Path:
    """v1.0: a 5,000-row table and a model; v2.0: the table cut to 4,000 rows, one row changed,
    and the model changed; both pushed with their data."""
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "t.csv", _table(5000))
    write(repo / "model.bin", random_bytes(200_000, seed=1))
    commit_all(repo, "v1")
    git("tag", "v1.0", cwd=repo)
    write(repo / "data" / "t.csv", _table(4000, changed=7))
    write(repo / "model.bin", random_bytes(200_000, seed=2))
    commit_all(repo, "v2")
    git("tag", "v2.0", cwd=repo)
    git("push", "-q", "origin", "main", "v1.0", "v2.0", cwd=repo)
    return bare


def _present(clone: Path, rev: str) -> dict[str, bool]:
    """path -> whether its data at ``rev`` is in the clone's pool (`git mlv ls-files REV`)."""
    lines = out(mlv("ls-files", rev, cwd=clone)).splitlines()
    return {line.split()[-1]: line.split()[1] == "*" for line in lines}


def test_git_diff_against_a_tag_fetches_the_old_side(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert _present(clone, "v1.0") == {"data/t.csv": False, "model.bin": False}

    text = out(git("diff", "v1.0", "--", "data/t.csv", cwd=clone))
    assert "-rows 5000" in text and "+rows 4000" in text, text
    assert "format pointer" not in text
    assert _present(clone, "v1.0")["data/t.csv"]
    # git archive (it held pointer text for files not here) and cat-file --filters: the bytes
    tar = tarfile.open(fileobj=io.BytesIO(git("archive", "v1.0", cwd=clone).stdout))
    member = tar.extractfile("model.bin")
    assert member is not None and member.read() == random_bytes(200_000, seed=1)
    raw = git("cat-file", "--filters", "v2.0:model.bin", cwd=clone).stdout
    assert raw == random_bytes(200_000, seed=2)


def test_git_diff_leaves_a_pointer_out_of_the_fetch_scope(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    git("config", "mlv.fetchExclude", "data/**", cwd=clone)
    text = out(git("diff", "v1.0", "--", "data/t.csv", cwd=clone))
    assert "format pointer" in text and not _present(clone, "v1.0")["data/t.csv"], text


def test_mlv_diff_fetches_the_tables_it_compares_not_the_model(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    text = out(mlv("diff", "v1.0", "v2.0", "--key", "id", cwd=clone))
    assert "not here" not in text, text
    assert "t.csv by id: 0 added, 1000 removed, 1 changed" in text, text
    assert "id=7: x 1.75 -> 999.5" in text, text
    have = _present(clone, "v1.0")
    assert have["data/t.csv"] and not have["model.bin"]  # the model was only sized up


def test_an_unreachable_remote_is_tried_once_per_command(origin: Path, tmp_path: Path) -> None:
    """Offline (here: the folder remote moved away), `git diff v1.0` of two files not here warns
    once and shows the pointers, instead of trying the remote again for every file."""
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    (tmp_path / "store").rename(tmp_path / "away")
    proc = git("diff", "v1.0", cwd=clone)
    err = proc.stderr.decode()
    assert err.count("could not fetch") == 1 and "no further file is tried" in err, err
    assert proc.stdout.decode().count("format pointer") == 2, proc.stdout
    (tmp_path / "away").rename(tmp_path / "store")  # back: the next command fetches
    assert "-rows 5000" in out(git("diff", "v1.0", "--", "data/t.csv", cwd=clone))


def test_a_clone_from_an_unreachable_remote_tries_it_once(origin: Path, tmp_path: Path) -> None:
    """A clone whose data remote is gone: the filter's background fetch fails once, and neither
    its later batches nor git's second request for each delayed file (no delay allowed then)
    try the remote again (before: one failure per batch, each after its own retries, then one
    more for the first file git asked for again)."""
    (tmp_path / "store").rename(tmp_path / "away")
    clone = tmp_path / "clone"
    proc = git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    err = proc.stderr.decode()
    assert err.count("could not fetch data (nothing more is fetched in this command)") == 1, err
    assert "could not fetch the data of" not in err, err
    assert Pointer.parse((clone / "model.bin").read_bytes())  # pointers, as promised
    assert out(git("status", "--porcelain", cwd=clone)) == ""
    (tmp_path / "away").rename(tmp_path / "store")
    mlv("pull", cwd=clone)
    assert (clone / "data" / "t.csv").read_bytes() == _table(4000, changed=7)
