"""A stage to run whose dependency is still in pointer form (a clone that has not pulled): a pointer
counts as its data when judging staleness, but the command reads the bytes on disk. repro ran it
over the pointer text; a command that did not crash recorded outputs made from pointers in the lock
and in the run-cache, under the real data's oid, for every clone that pushes and pulls to restore.
It now fails that stage, naming the file and `git mlv pull` (real git, real git-mlv)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write

GEN = ("python -c \"import pathlib; d = pathlib.Path('feats'); d.mkdir(); "
       "[(d / f'{i}.bin').write_bytes(bytes([i]) * (1000 + i)) for i in range(3)]\"")
# the bytes of every file of feats, times a factor from params.yaml
SUM = ("python -c \"import pathlib, yaml; k = yaml.safe_load(open('params.yaml'))['k']; "
       "n = sum(len(p.read_bytes()) for p in pathlib.Path('feats').iterdir()); "
       "open('total.txt', 'w').write(str(n * k))\"")


def test_a_stage_does_not_run_over_pointers(repo: Path, tmp_path: Path) -> None:
    write(repo / "params.yaml", b"k: 1\n")
    mlv("run", "-n", "gen", "-o", "feats", GEN, cwd=repo)
    mlv("run", "-n", "sum", "-d", "feats", "-p", "k", "-M", "total.txt", SUM, cwd=repo)
    assert (repo / "total.txt").read_text() == "3003"
    commit_all(repo, "v1")
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)  # no data remote: pointers stay
    assert (clone / "feats" / "0.bin").read_bytes().startswith(b"version https://git-mlv.dev/spec/v1\n")
    assert "Everything is up to date." in out(mlv("repro", cwd=clone))  # judged on the pointers' data
    lock = (clone / ".gitmlv.lock").read_bytes()
    write(clone / "params.yaml", b"k: 2\n")
    p = mlv("repro", cwd=clone, check=False)
    assert p.returncode == 1
    assert p.stderr.decode().splitlines()[-1] == (
        "git-mlv: error: stage 'sum' failed: dependency 'feats/0.bin' (and 2 more file(s)) is still "
        "a git-mlv pointer, its data not in the work tree: `git mlv pull` writes it, then repro")
    assert "Running stage 'sum'" not in p.stdout.decode()
    assert (clone / "total.txt").read_text() == "3003"  # untouched, and nothing recorded
    assert (clone / ".gitmlv.lock").read_bytes() == lock
    assert not list((clone / ".git" / "mlv" / "runcache").glob("*"))
    # the data back (here: the same files written by hand, as a pull would): it runs
    for i in range(3):
        write(clone / "feats" / f"{i}.bin", bytes([i]) * (1000 + i))
    assert "Running stage 'sum'" in out(mlv("repro", cwd=clone))
    assert (clone / "total.txt").read_text() == "6006"
