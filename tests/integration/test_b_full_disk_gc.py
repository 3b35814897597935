"""`git mlv gc` on a full disk when every dead pack holds a dead file's manifest.

gc, finding no room to copy the live objects, deletes the packs that hold nothing to keep first,
then copies again in the room they free (test_killed_gc_full_disk.py). To order those deletions
it reads the dead manifests, which opened their packs: the descriptors stayed open, so deleting
the packs freed nothing (a deleted file keeps its space while open), and gc failed again with
exit 6, "no space left ... free some space (`git mlv gc` drops data nothing needs)", a circle.
gc now closes its descriptors of the packs it deleted (Pool.let_go).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import fill_disk, git, mlv, one_error_line, random_bytes, write


def test_gc_on_a_full_disk_when_dead_packs_hold_manifests(repo: Path, small_fs: Path) -> None:
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=repo)
    for i in range(4):  # four dead files: their manifests in each of the dead packs
        write(repo / f"junk{i}.bin", random_bytes(120_000, seed=90 + i))
    git("add", "-A", cwd=repo)
    git("rm", "-q", "--cached", "junk0.bin", "junk1.bin", "junk2.bin", "junk3.bin", cwd=repo)
    for i in range(4):
        (repo / f"junk{i}.bin").unlink()
    live = random_bytes(100_000, seed=99)
    write(repo / "live.bin", live)
    git("add", "live.bin", cwd=repo)
    git("commit", "-q", "-m", "live", cwd=repo)
    fill_disk(small_fs)

    res = mlv("gc", cwd=repo, check=False)
    assert res.returncode == 0, res.stderr  # the old code: 6, "no space left ... `git mlv gc`"
    assert "unreachable; freed" in res.stdout.decode()
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
    (repo / "live.bin").unlink()
    git("checkout", "--", "live.bin", cwd=repo)
    assert (repo / "live.bin").read_bytes() == live


def test_gc_on_a_full_disk_with_no_dead_pack_says_what_to_do(repo: Path, small_fs: Path) -> None:
    """Dead and live data mixed in every pack: gc has nothing to delete before it copies, and
    said to free space with `git mlv gc`, the very command that failed."""
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=repo)
    for i in range(2):  # cleaned in name order by one writer: each pack holds live and dead chunks
        write(repo / f"{'ac'[i]}-junk{i}.bin", random_bytes(150_000, seed=85 + i))
        write(repo / f"{'bd'[i]}-live{i}.bin", random_bytes(100_000, seed=80 + i))
    git("add", "-A", cwd=repo)
    git("rm", "-q", "--cached", "a-junk0.bin", "c-junk1.bin", cwd=repo)
    git("commit", "-q", "-m", "live", cwd=repo)
    fill_disk(small_fs)

    err = one_error_line(mlv("gc", cwd=repo, check=False), 6)
    assert "no space left" in err and "run gc again" in err
    assert "`git mlv gc` drops" not in err  # the old line: run the command that failed
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
