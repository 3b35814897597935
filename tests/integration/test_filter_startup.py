"""The filter's start-up for a one-file checkout (issue 9): a smudge of a small file, found through
the multi-pack index and through a pack index the midx does not cover, imports no numpy (its import
was most of a one-file checkout's filter); bytes equal; a big file (numpy's batch lookups and
un-shuffle) still comes back whole from the same process.

The filter is driven as git drives it (protocol v2 over its pipes), with PYTHONPROFILEIMPORTTIME
set so that the process itself lists every module it imported on its stderr.
"""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, write


def _pkt(data: bytes) -> bytes:
    return b"%04x" % (len(data) + 4) + data


def _text(line: str) -> bytes:
    return _pkt(line.encode() + b"\n")


def _read_until_flush(f) -> list[bytes]:  # type: ignore[no-untyped-def]
    out = []
    while True:
        n = int(f.read(4), 16)
        if n == 0:
            return out
        out.append(f.read(n - 4))


def _started(repo: Path, env: dict[str, str] | None = None
             ) -> tuple[subprocess.Popen[bytes], list[bytes]]:
    """A real filter process past git's handshake (clean and smudge offered); its capabilities."""
    proc = subprocess.Popen(["git-mlv", "filter-process"], cwd=repo, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(_text("git-filter-client") + _text("version=2") + b"0000"
                     + _text("capability=clean") + _text("capability=smudge") + b"0000")
    proc.stdin.flush()
    assert _read_until_flush(proc.stdout) == [b"git-filter-server\n", b"version=2\n"]
    return proc, _read_until_flush(proc.stdout)


def _filter_all(repo: Path, command: str, contents: dict[str, bytes]) -> tuple[dict[str, bytes], str]:
    """Speak git's filter protocol to one real filter process, under PYTHONPROFILEIMPORTTIME:
    ``command`` (clean or smudge) for each path's content; (what the filter answers for each
    path, the filter's stderr)."""
    proc, caps = _started(repo, dict(os.environ, PYTHONPROFILEIMPORTTIME="1"))
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    assert f"capability={command}\n".encode() in caps
    got = {}
    for p, data in contents.items():
        body = b"".join(_pkt(data[i:i + 65516]) for i in range(0, len(data), 65516))
        proc.stdin.write(_text(f"command={command}") + _text(f"pathname={p}") + b"0000" + body + b"0000")
        proc.stdin.flush()
        assert _read_until_flush(proc.stdout) == [b"status=success\n"]
        got[p] = b"".join(_read_until_flush(proc.stdout))
        assert _read_until_flush(proc.stdout) == []
    proc.stdin.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0, err
    return got, err


def _smudge_all(repo: Path, paths: list[str]) -> tuple[dict[str, bytes], str]:
    """(content git would get for each path, the filter's stderr)."""
    blobs = {p: git("cat-file", "-p", f"HEAD:{p}", cwd=repo).stdout for p in paths}
    return _filter_all(repo, "smudge", blobs)


def _imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.slow  # ~5 s: two commits, a gc and two filter processes
def test_one_small_file_smudges_without_numpy(repo: Path) -> None:
    floats = struct.pack("<4096f", *(i / 7 for i in range(4096)))  # 16 KiB: shuffled, many chunks
    files = {
        "old.bin": random_bytes(700, seed=1),  # raw, found through the midx
        "data/text.bin": b"row,value\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(300)),  # zstd
        "model.bin": floats * 4,
    }
    for name in ("old.bin", "data/text.bin", "model.bin"):
        write(repo / name, files[name])
    commit_all(repo, "v1")
    mlv("gc", cwd=repo)  # a full consolidation: one pack, covered by the midx
    packs = repo / ".git" / "mlv" / "packs"
    assert (packs / "pool.midx").exists()
    files["new.bin"] = random_bytes(900, seed=2)  # in a pack of its own, not in the midx
    write(repo / "new.bin", files["new.bin"])
    commit_all(repo, "v2")
    assert len(list(packs.glob("*.idx"))) == 2

    got, err = _smudge_all(repo, ["old.bin", "data/text.bin", "new.bin"])
    assert got == {k: files[k] for k in ("old.bin", "data/text.bin", "new.bin")}
    mods = _imported(err)
    assert "git_mlv.core.pool" in mods  # the list is the filter's own, and it read the pool
    assert not {m for m in mods if m.split(".")[0] == "numpy"}, "a one-file smudge imported numpy"

    got, err = _smudge_all(repo, ["model.bin"])
    assert got == {"model.bin": files["model.bin"]}
    assert "numpy" in _imported(err)  # a big file's batch lookups and float un-shuffle use it


def test_stored_small_files_are_cleaned_without_the_writer(repo: Path) -> None:
    """A racily clean file git re-reads after a checkout: content of at most chunkMin bytes (one
    chunk whatever the cut points) already in the pool gets its pointer without the pool's writer
    (FastCDC, thread pools); the pointers are the writer's, byte for byte, on both sides of the
    bounds (the pointer's 1,024-byte head, the tests' chunkMin of 1,024)."""
    sizes = {"a.bin": 700, "b.bin": 1023, "c.bin": 1024, "d.bin": 1025, "e.bin": 3000}
    files = {name: random_bytes(n, seed=n) for name, n in sizes.items()}
    for name, data in files.items():
        write(repo / name, data)
    commit_all(repo, "v1")
    stored = {name: git("cat-file", "-p", f":{name}", cwd=repo).stdout for name in files}
    # one thread: no clean ahead (ops/cleanahead.py), which would answer the stored bigger files
    # from its own guesses without the writer too, and so hide where this shortcut's bound lies
    git("config", "mlv.threads", "1", cwd=repo)

    small = {k: files[k] for k in ("a.bin", "b.bin", "c.bin")}
    got, err = _filter_all(repo, "clean", small)
    assert got == {k: stored[k] for k in small}
    assert "git_mlv.core.poolwriter" not in _imported(err)

    got, err = _filter_all(repo, "clean", files)  # the bigger ones through the writer: the same pointers
    assert got == stored
    assert "git_mlv.core.poolwriter" in _imported(err)

    fresh = random_bytes(600, seed=12345)  # small but not stored: the writer stores it
    got, err = _filter_all(repo, "clean", {"f.bin": fresh})
    assert "git_mlv.core.poolwriter" in _imported(err)
    # nor numpy (~0.15 s): the writer's close loads the consolidation only when packs piled up
    assert "numpy" not in _imported(err)
    write(repo / "f.bin", fresh)
    commit_all(repo, "v2")
    assert git("cat-file", "-p", ":f.bin", cwd=repo).stdout == got["f.bin"]
    (repo / "f.bin").unlink()
    git("checkout", "--", "f.bin", cwd=repo)
    assert (repo / "f.bin").read_bytes() == fresh


def test_git_gone_in_the_middle_of_a_file_ends_the_filter_quietly(repo: Path) -> None:
    """git killed (^C) while it sent a file to clean: the filter read the end of its pipe in the
    middle of the content and printed "git-mlv: internal error: EOFError" after the user's ^C."""
    proc, _ = _started(repo)
    assert proc.stdin is not None and proc.stderr is not None
    data = random_bytes(300_000, seed=9)
    partial = b"".join(_pkt(data[i:i + 65516]) for i in range(0, 3 * 65516, 65516))  # no flush
    proc.stdin.write(_text("command=clean") + _text("pathname=big.bin") + b"0000" + partial)
    proc.stdin.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0, err
    assert "error" not in err, err
