#!/usr/bin/env python3
"""The data path's budget: every stage of commit and checkout alone, in MB/s on one core, by data kind.

Reads a workload made by the shared generator (read-only), e.g.::

    python3 ../shared/bench/make_workload.py --scale 0.25 v1 /tmp/wl
    .venv/bin/python bench/budget.py /tmp/wl            # ~1-2 minutes; --reps 5 by default

Each stage runs over the same bytes ``--reps`` times and the best run is kept (the machine is shared;
the best run is the one least disturbed). Stages are timed on the chunks FastCDC cuts with the
pool's default settings, the way the filter sees them. The table ends with the sum per GB: the floor
of the current design for commit and for checkout, on one core and ideally spread over two. git's own
side (reading the worktree file and writing it to our pipe at commit; reading our pipe and writing the
file at checkout) is measured with a no-op long-running filter written in Python (stdlib only), so
its figure is git's plus the minimum any Python filter spends on framing.

Use it to see where the time goes; compare end-to-end figures with bench/run.py.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zlib
from collections.abc import Callable

import zstandard
from pyfastcdc.cy import FastCDC

from git_mlv.core import compress as cz
from git_mlv.core import poolwriter
from git_mlv.core.settings import Settings
from git_mlv.gitio.pktline import PktReader, PktWriter

KINDS = {  # label -> files of the workload (relative to its data/ folder)
    "images": "images",
    "csv": "table.csv",
    "model": "model.bin",
}


def load(root: str, rel: str, limit: int) -> list[bytes]:
    """Up to ``limit`` bytes of the kind's files, cut into chunks like the pool does."""
    path = os.path.join(root, "data", rel)
    files = [path] if os.path.isfile(path) else sorted(
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs)
    s = Settings()
    cdc = FastCDC(s.chunk_avg, min_size=s.chunk_min, max_size=s.chunk_max)
    chunks: list[bytes] = []
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read(limit - total)
        chunks += [bytes(c.data) for c in cdc.cut_buf(data)]
        total += len(data)
        if total >= limit:
            break
    return chunks


def best(fn: Callable[[], object], reps: int) -> float:
    """The fastest of ``reps`` runs of ``fn``, in seconds."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _pipe_read(framed: bytes) -> None:
    """Read ``framed`` pkt-lines through a real pipe with the filter's reader (a thread writes)."""
    r, w = os.pipe()

    def feed() -> None:
        view = memoryview(framed)
        while view:
            view = view[os.write(w, view[:1 << 20]):]
        os.close(w)

    t = threading.Thread(target=feed)
    t.start()
    with open(r, "rb", buffering=1 << 20) as f:
        content = PktReader(f).content()
        buf = bytearray(1 << 20)
        while content.readinto(buf):
            pass
    t.join()


def _pipe_write(chunks: list[bytes]) -> None:
    """Write ``chunks`` as pkt-lines with the filter's writer into a real pipe (a thread drains)."""
    r, w = os.pipe()

    def drain() -> None:
        while os.read(r, 1 << 20):
            pass
        os.close(r)

    t = threading.Thread(target=drain)
    t.start()
    with open(w, "wb", buffering=1 << 20) as f:
        pw = PktWriter(f)
        for c in chunks:
            pw.content(c)
        pw.flush_pkt()
    t.join()


def _writer_compress(chunks: list[bytes], level: int) -> list[tuple[int, bytes | memoryview]]:
    """Compress as core/poolwriter.py does: the codec sampled once per run of chunks (of a file; here
    of the whole list, so the images' one-chunk files are sampled less often than in a commit)."""
    codec, out = cz.CODEC_RAW, []
    for i, c in enumerate(chunks):
        if i % poolwriter._CHOOSE_EVERY == 0:
            codec = cz.choose(c, level)
        out.append(cz.compress(c, level, codec))
    return out


def stages(chunks: list[bytes], reps: int) -> dict[str, float]:
    """Seconds each stage takes over ``chunks`` (best of ``reps``)."""
    whole = b"".join(chunks)
    level = Settings().compression_level
    coded = [cz.compress(c, level) for c in chunks]
    shuffled = [cz.shuffle4(c) for c in chunks]
    zc = zstandard.ZstdCompressor(level=level, write_content_size=True, write_checksum=True)
    zd = zstandard.ZstdDecompressor()
    framed_ck = [zc.compress(c) for c in chunks]
    bio = io.BytesIO()
    PktWriter(bio).content(whole)
    framed = bio.getvalue() + b"0000"
    s = Settings()
    cdc = FastCDC(s.chunk_avg, min_size=s.chunk_min, max_size=s.chunk_max)
    out = {
        "pkt-line read (pipe)": best(lambda: _pipe_read(framed), reps),
        "FastCDC": best(lambda: sum(1 for _ in cdc.cut_buf(whole)), reps),
        "sha256 per chunk": best(lambda: [hashlib.sha256(c).digest() for c in chunks], reps),
        "sha256 whole file": best(lambda: hashlib.sha256(whole).digest(), reps),
        "crc32 per chunk": best(lambda: [zlib.crc32(c) for c in chunks], reps),
        "codec choice per chunk + compress (L1)": best(lambda: [cz.compress(c, level) for c in chunks], reps),
        "codec choice + compress (L1)": best(lambda: _writer_compress(chunks, level), reps),
        "zstd compress L1 + frame checksum": best(lambda: [zc.compress(c) for c in chunks], reps),
        "decompress (codec, incl. unshuffle)": best(
            lambda: [cz.decompress(k, d, len(c)) for (k, d), c in zip(coded, chunks)], reps),
        "zstd decompress + frame checksum": best(
            lambda: [zd.decompress(f, max_output_size=len(c)) for f, c in zip(framed_ck, chunks)], reps),
        "shuffle4": best(lambda: [cz.shuffle4(c) for c in chunks], reps),
        "unshuffle4": best(lambda: [cz.unshuffle4(c) for c in shuffled], reps),
        "pkt-line write (pipe)": best(lambda: _pipe_write(chunks), reps),
    }
    for name, mod in (("blake3", "blake3"), ("xxh3_64", "xxhash")):
        try:
            lib = __import__(mod)
        except ImportError:
            continue
        h = lib.blake3 if name == "blake3" else lib.xxh3_64
        out[f"{name} per chunk"] = best(lambda h=h: [h(c).digest() for c in chunks], reps)
    return out


NOOP_FILTER = textwrap.dedent("""\
    import os, sys
    src = sys.argv[1]
    fin = open(0, "rb", buffering=1 << 20)
    fout = open(1, "wb", buffering=1 << 20)
    def pkt():
        n = int(fin.read(4), 16)
        return None if n == 0 else fin.read(n - 4)
    def until_flush():
        out = []
        while (p := pkt()) is not None:
            out.append(p)
        return out
    def send(b):
        fout.write(b"%04x" % (len(b) + 4) + b)
    until_flush(); [send(x) for x in (b"git-filter-server\\n", b"version=2\\n")]
    fout.write(b"0000"); fout.flush()
    until_flush(); send(b"capability=clean\\n"); send(b"capability=smudge\\n"); fout.write(b"0000")
    fout.flush()
    while True:
        try:
            head = dict(p.decode().rstrip("\\n").split("=", 1) for p in until_flush())
        except ValueError:
            break
        body = b"".join(until_flush())
        if head.get("command") == "smudge":
            with open(os.path.join(src, body.decode()), "rb") as f:
                data = f.read()
        else:
            data = head["pathname"].encode()
        send(b"status=success\\n"); fout.write(b"0000")
        v = memoryview(data)
        for i in range(0, len(v), 65516):
            fout.write(b"%04x" % (min(65516, len(v) - i) + 4)); fout.write(v[i:i + 65516])
        fout.write(b"00000000"); fout.flush()
""")


def _git(repo: str, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(["git", "-C", repo, *args], check=True, stdout=subprocess.DEVNULL, env=env)


def git_side(root: str, reps: int) -> dict[str, tuple[float, int]]:
    """Wall seconds and bytes of git's own work with a no-op filter and with no filter at all."""
    data = os.path.join(root, "data")
    nbytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data) for f in fs)
    tmp = tempfile.mkdtemp(prefix="mlv-budget-")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b"}
    try:
        flt = os.path.join(tmp, "noop.py")
        with open(flt, "w") as f:
            f.write(NOOP_FILTER)
        out: dict[str, tuple[float, int]] = {}
        for mode in ("noop filter", "no filter"):
            repo = os.path.join(tmp, mode.replace(" ", "-"))
            os.makedirs(repo)
            _git(repo, "init", "-q")
            _git(repo, "config", "core.compression", "0")  # git's zlib is not part of our path
            _git(repo, "config", "core.looseCompression", "0")
            if mode == "noop filter":
                _git(repo, "config", "filter.noop.process", f"{sys.executable} -S {flt} {root}")
                with open(os.path.join(repo, ".gitattributes"), "w") as f:
                    f.write("data/** filter=noop\n")
            shutil.copytree(data, os.path.join(repo, "data"))

            def add(repo: str = repo) -> None:
                os.remove(os.path.join(repo, ".git", "index")) if os.path.exists(
                    os.path.join(repo, ".git", "index")) else None
                _git(repo, "add", "-A", ".")

            out[f"git add, {mode}"] = (best(add, reps), nbytes)
            _git(repo, "commit", "-qm", "v1", env=env)

            def checkout(repo: str = repo) -> None:
                shutil.rmtree(os.path.join(repo, "data"))
                _git(repo, "checkout", "-q", "--", "data")

            out[f"git checkout, {mode}"] = (best(checkout, reps), nbytes)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


COMMIT_STAGES = ("pkt-line read (pipe)", "FastCDC", "sha256 per chunk", "sha256 whole file",
                 "codec choice + compress (L1)")
CHECKOUT_STAGES = ("crc32 per chunk", "decompress (codec, incl. unshuffle)", "pkt-line write (pipe)")


def main() -> None:
    """Measure and print the budget as Markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload", help="a workload root made by make_workload.py (holds data/)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per stage; the best is kept")
    ap.add_argument("--mb", type=int, default=64, help="MB of each data kind to measure")
    ap.add_argument("--no-git", action="store_true", help="skip the git side (the slowest part)")
    args = ap.parse_args()
    results: dict[str, dict[str, float]] = {}
    sizes: dict[str, int] = {}
    for kind, rel in KINDS.items():
        chunks = load(args.workload, rel, args.mb << 20)
        sizes[kind] = sum(map(len, chunks))
        results[kind] = stages(chunks, args.reps)
        print(f"budget: {kind} measured ({sizes[kind] >> 20} MB)", file=sys.stderr)
    names = list(results["images"])
    print("| stage, MB/s on one core | " + " | ".join(KINDS) + " |")
    print("|---|" + "---|" * len(KINDS))
    for n in names:
        print(f"| {n} | " + " | ".join(
            f"{sizes[k] / results[k][n] / 1e6:,.0f}" for k in KINDS) + " |")
    # the standard workload's mix by bytes at scale 1 (v1): images 240 MB, csv 300 MB, model 400 MB
    mix = {"images": 240 / 940, "csv": 300 / 940, "model": 400 / 940}

    def per_gb(stage: str) -> float:
        return sum(mix[k] * results[k][stage] / sizes[k] * 1e9 for k in KINDS)

    print("\n| floor, s per GB of the standard mix | one core | two cores (ideal) |")
    print("|---|---|---|")
    for label, group in (("commit (filter side)", COMMIT_STAGES),
                         ("checkout (filter side)", CHECKOUT_STAGES)):
        for s in group:
            print(f"| &nbsp; {s} | {per_gb(s):.2f} | |")
        tot = sum(per_gb(s) for s in group)
        print(f"| **{label}** | **{tot:.2f}** | **{tot / 2:.2f}** |")
    if not args.no_git:
        for name, (secs, n) in git_side(args.workload, max(2, args.reps // 2)).items():
            print(f"| {name} (wall) | {secs / n * 1e9:.2f} | |")


if __name__ == "__main__":
    main()
