"""Does decoding a big file's chunks go faster on two threads? Each stage alone, on one and two.

A checkout decodes a big file on one reader thread while the filter's main thread writes git's
pipe (core/pool.py). Whether a second decoder would pay depends on which stages release the GIL
at chunk size: python-zstandard does; numpy's four strided copies of ``unshuffle4`` on ~70 KB
chunks hand the GIL back and forth (bench/RESULTS.md, the decode-ahead lever of issue 10).

    .venv/bin/python bench/decode_threads.py REPO REV:PATH     # e.g. . v1:data/model.bin

Reads the file's stored chunks from REPO's pool once, then times, on 1 and 2 threads splitting the
chunks between them: zstd alone, unshuffle alone, and the whole decode (``compress.decompress``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import threading
import time
from collections.abc import Callable

import zstandard

from git_mlv.core import chunkread
from git_mlv.core import compress as cz
from git_mlv.core.pointer import Pointer
from git_mlv.ops.context import Workspace

Stored = tuple[int, bytes, int]  # codec, stored bytes, raw length


def stored_chunks(repo: str, spec: str) -> list[Stored]:
    blob = subprocess.run(["git", "-C", repo, "cat-file", "blob", spec], capture_output=True,
                          check=True).stdout
    pointer = Pointer.try_parse(blob)
    if pointer is None:
        raise SystemExit(f"{spec} is not a git-mlv pointer")
    os.chdir(repo)
    pool = Workspace.discover().pool
    chunks = pool.file_chunks(pointer.oid)
    paths, rows = chunkread.locate(pool, [cid for cid, _ in chunks])
    return [(codec, os.pread(pool.pack_fd(paths[p]), stored, off + chunkread.ENTRY_SIZE), raw)
            for p, off, stored, raw, codec, _ in rows]


def timed(work: Callable[[list], None], items: list, threads: int) -> float:
    parts = [items[i::threads] for i in range(threads)]
    ts = [threading.Thread(target=work, args=(part,)) for part in parts]
    start = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo")
    ap.add_argument("spec", metavar="REV:PATH")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    stored = stored_chunks(a.repo, a.spec)
    raw_mb = sum(n for _, _, n in stored) / 1e6
    print(f"{len(stored)} chunks, {sum(len(b) for _, b, _ in stored) / 1e6:.0f} MB stored, "
          f"{raw_mb:.0f} MB raw")
    d = zstandard.ZstdDecompressor()
    zstd_out = [d.decompress(b, max_output_size=n) if c != cz.CODEC_RAW else b for c, b, n in stored]

    def zstd(part: list[Stored]) -> None:
        dd = zstandard.ZstdDecompressor()
        for c, b, n in part:
            if c != cz.CODEC_RAW:
                dd.decompress(b, max_output_size=n)

    def unshuffle(part: list[bytes]) -> None:
        for raw in part:
            cz.unshuffle4(raw)

    def decode(part: list[Stored]) -> None:
        for c, b, n in part:
            cz.decompress(c, b, n)

    print("| stage | 1 thread, s | 2 threads, s |\n|---|---|---|")
    for name, work, items in (("zstd", zstd, stored), ("unshuffle4", unshuffle, zstd_out),
                              ("decode (both)", decode, stored)):
        best = [min(timed(work, items, k) for _ in range(a.reps)) for k in (1, 2)]
        print(f"| {name} | {best[0]:.3f} | {best[1]:.3f} |")


if __name__ == "__main__":
    main()
