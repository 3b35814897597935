"""A clone of a repository on this machine, with no data remote (`git clone /data/project`): the
data is in the origin's pool. `git mlv pull` and `git mlv status` name the one setting that
shares it (``mlv.pool``, docs/formats.md#shared-pool), and a pull whose data is all here writes
the files without a data remote (before: "no default data remote", exit 2, nothing written)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, one_error_line, out, random_bytes, write

FILES = {"data/a.bin": random_bytes(300_000, seed=1), "data/sub dir/b.bin": random_bytes(70_000, seed=2)}


def _source(repo: Path) -> Path:
    for name, data in FILES.items():
        write(repo / name, data)
    commit_all(repo, "data")
    return repo


def _clone(src: Path, dest: Path) -> tuple[Path, str]:
    """``dest`` cloned from ``src``, and what the clone printed on stderr."""
    res = git("clone", "-q", str(src), str(dest), cwd=src.parent)
    for name in FILES:  # the filter found no data: pointers
        assert (dest / name).read_bytes().startswith(b"version https://git-mlv")
    return dest, res.stderr.decode()


def test_pull_names_the_origins_pool_and_pulls_from_it_once_shared(repo: Path, tmp_path: Path) -> None:
    clone, said = _clone(_source(repo), tmp_path / "clone")
    pool = repo / ".git" / "mlv"
    # the clone's own last line names it (before: "`git mlv pull` fetches them", which then failed)
    assert said.splitlines()[-1] == (
        "git-mlv: 2 file(s) left as pointers, their data not here; there is no data remote: use the "
        f"pool of git remote 'origin', a repository on this machine: `git config mlv.pool {pool}`, "
        "then `git mlv pull`")
    line = one_error_line(mlv("pull", cwd=clone, check=False), 2)
    assert "no default data remote" in line
    assert f"git remote 'origin', a repository on this machine: `git config mlv.pool {pool}`" in line
    status = out(mlv("status", cwd=clone))
    assert f"`git config mlv.pool {pool}`" in status and "data/a.bin" in status
    git("config", "mlv.pool", str(pool), cwd=clone)
    res = mlv("pull", cwd=clone)
    assert "Nothing to fetch: the data of all 2 file(s) is here" in out(res)
    assert {n: (clone / n).read_bytes() for n in FILES} == FILES
    assert out(git("status", "--porcelain", cwd=clone)) == ""


def test_a_pull_with_every_files_data_here_needs_no_data_remote(repo: Path) -> None:
    """The source itself, its files turned into pointers: the pool holds their data."""
    _source(repo)
    (repo / "data/a.bin").write_bytes(git("cat-file", "blob", "HEAD:data/a.bin", cwd=repo).stdout)
    res = mlv("pull", cwd=repo)
    assert (repo / "data/a.bin").read_bytes() == FILES["data/a.bin"]
    assert "Checked out 1 file(s)" in out(res)


def test_no_hint_for_a_remote_elsewhere_or_a_pool_without_packs(repo: Path, tmp_path: Path) -> None:
    clone, _ = _clone(_source(repo), tmp_path / "clone")
    git("remote", "set-url", "origin", "ssh://example.invalid/project.git", cwd=clone)
    line = one_error_line(mlv("pull", cwd=clone, check=False), 2)
    assert "mlv.pool" not in line
    bare = tmp_path / "bare.git"  # a bare copy of the history: git objects only, no pool
    git("clone", "-q", "--bare", str(repo), str(bare), cwd=tmp_path)
    git("remote", "set-url", "origin", str(bare), cwd=clone)
    line = one_error_line(mlv("pull", cwd=clone, check=False), 2)
    assert "mlv.pool" not in line
    _, said = _clone(bare, tmp_path / "clone of the bare copy")
    assert said.splitlines()[-1].endswith("`git mlv pull` fetches them and says why any cannot be had")
