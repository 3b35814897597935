"""Finding pointers in git: in trees of revisions, in the index, and everything gc must keep.

Pointers are small blobs (< 1024 bytes), so every walk asks git for object sizes first and reads
only the small blobs, in one ``git cat-file --batch`` per walk.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable, Iterator
from typing import IO

from ..core.pointer import MAX_SIZE, Pointer
from .git import GitError, Repo


def read_blobs(repo: Repo, oids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(oid, content) of each blob, via one ``git cat-file --batch``."""
    todo = list(dict.fromkeys(oids))
    if not todo:
        return
    proc = subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=repo.worktree or repo.git_dir,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    assert proc.stdin and proc.stdout
    # Ask in windows of 64 and read each window's answers before asking more: git answers in
    # order, and neither pipe can fill up and deadlock us (the blobs asked for are small).
    out = proc.stdout
    pending = iter(todo)
    window = 0
    for oid in pending:
        proc.stdin.write(oid.encode() + b"\n")
        window += 1
        if window >= 64:
            proc.stdin.flush()
            for _ in range(window):
                yield _read_one(out)
            window = 0
    proc.stdin.close()
    for _ in range(window):
        yield _read_one(out)
    proc.wait()


def _read_one(out: IO[bytes]) -> tuple[str, bytes]:
    header = out.readline().split()
    if len(header) < 3:  # "<oid> missing"
        return header[0].decode(), b""
    size = int(header[2])
    data = out.read(size)
    out.read(1)  # the LF after the content
    return header[0].decode(), data


def _pointers(repo: Repo, candidates: dict[str, list[str]]) -> Iterator[tuple[str, Pointer]]:
    """(path, pointer) for candidate blob oids -> paths."""
    for oid, data in read_blobs(repo, candidates):
        p = Pointer.try_parse(data)
        if p is not None:
            for path in candidates[oid]:
                yield path, p


def iter_pointers(repo: Repo, revs: list[str]) -> Iterator[tuple[str, Pointer]]:
    """(path, pointer) of every pointer blob in the trees of ``revs`` (a path may repeat across revs)."""
    candidates: dict[str, list[str]] = {}
    for rev in revs:
        raw = repo.git("ls-tree", "-r", "-l", "-z", "--full-tree", rev)
        for item in raw.split(b"\0"):
            if not item:
                continue
            meta, _, path = item.partition(b"\t")
            mode, kind, oid, size = meta.split()
            if kind == b"blob" and size != b"-" and int(size) < MAX_SIZE:
                candidates.setdefault(oid.decode(), []).append(os.fsdecode(path))
    yield from _pointers(repo, candidates)


def index_pointers(repo: Repo) -> Iterator[tuple[str, Pointer, int]]:
    """(path, pointer, mode) of pointer blobs staged in the index (stage 0)."""
    raw = repo.git("ls-files", "-s", "-z")
    entries: dict[str, list[tuple[str, int]]] = {}
    for item in raw.split(b"\0"):
        if not item:
            continue
        meta, _, raw_path = item.partition(b"\t")
        raw_mode, raw_oid, stage = meta.split()
        if stage == b"0" and raw_mode in (b"100644", b"100755"):
            entries.setdefault(raw_oid.decode(), []).append((os.fsdecode(raw_path), int(raw_mode, 8)))
    sizes = _sizes(repo, entries)
    small = {o: v for o, v in entries.items() if 0 <= sizes.get(o, MAX_SIZE) < MAX_SIZE}
    for oid, data in read_blobs(repo, small):
        p = Pointer.try_parse(data)
        if p is not None:
            for path, mode in small[oid]:
                yield path, p, mode


def _sizes(repo: Repo, oids: Iterable[str]) -> dict[str, int]:
    todo = "\n".join(oids)
    if not todo:
        return {}
    out = repo_run(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
                   (todo + "\n").encode())
    sizes = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes


def repo_run(repo: Repo, args: list[str], input: bytes) -> bytes:
    """Run git in ``repo`` with ``input`` on stdin."""
    from .git import run

    return run(args, cwd=repo.worktree or repo.git_dir, input=input)


def reflog_commits(repo: Repo, max_age_days: float) -> set[str]:
    """Commits named by reflog entries newer than ``max_age_days`` (all worktrees; the stash: all)."""
    cutoff = time.time() - max_age_days * 86400
    roots = [os.path.join(repo.common_dir, "logs")]
    wt_dir = os.path.join(repo.common_dir, "worktrees")
    if os.path.isdir(wt_dir):
        roots += [os.path.join(wt_dir, w, "logs") for w in os.listdir(wt_dir)]
    found: set[str] = set()
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                keep_all = path.endswith(os.path.join("refs", "stash"))
                with open(path, "rb") as f:
                    for line in f:
                        head = line.split(b"\t", 1)[0].split()
                        if len(head) < 4:
                            continue
                        try:
                            ts = int(head[-2])
                        except ValueError:
                            continue
                        if keep_all or ts >= cutoff:
                            found.update(h.decode() for h in head[:2] if h.strip(b"0"))
    return found


def reachable_pointers(repo: Repo, reflog_days: float = 90.0) -> dict[str, Pointer]:
    """oid -> pointer for every pointer gc must keep: reachable from any ref (all worktrees' HEADs),
    any index, stash entries, and reflog entries of the last ``reflog_days`` days."""
    args = ["rev-list", "--objects", "--all", "--indexed-objects", f"--filter=blob:limit={MAX_SIZE - 1}",
            "--stdin"]
    extra = reflog_commits(repo, reflog_days)
    existing = _existing_commits(repo, extra)
    try:
        out = repo_run(repo, args, ("\n".join(existing) + "\n").encode() if existing else b"")
    except GitError:
        out = b""
    oids = [line.split(b" ", 1)[0].decode() for line in out.splitlines() if line]
    sizes = _sizes(repo, oids)
    small = [o for o, s in sizes.items() if s < MAX_SIZE]
    result: dict[str, Pointer] = {}
    for _, data in read_blobs(repo, small):
        p = Pointer.try_parse(data)
        if p is not None:
            result[p.oid] = p
    return result


def _existing_commits(repo: Repo, oids: set[str]) -> list[str]:
    if not oids:
        return []
    out = repo_run(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                   ("\n".join(oids) + "\n").encode())
    return [line.split()[0] for line in out.decode().splitlines() if line.endswith(" commit")]


def all_ref_pointers(repo: Repo) -> dict[str, Pointer]:
    """oid -> pointer for pointers in any commit reachable from any ref (push --all, du)."""
    return reachable_pointers(repo, reflog_days=0)
