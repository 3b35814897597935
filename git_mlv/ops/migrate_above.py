"""``migrate import --above SIZE``: convert only the paths that hold a file bigger than SIZE.

A repository grown in plain git mixes small files (configs, small CSVs) with large ones under the
same extensions; a pattern cannot tell them apart, a size can. git-lfs's option of this name
converts each blob above the size. We choose *paths* instead: every path that holds a blob bigger
than SIZE in some commit of the rewritten history (with ``--no-rewrite``: in the checked-out tree)
is converted in every commit, and exactly those paths are routed through git-mlv by one anchored
``.gitattributes`` line each (``/data/train.csv filter=mlv ...``). Then the attributes and the
content agree in every commit: a big file that later shrank below SIZE does not show as modified,
and the next ``git add`` of it goes through the filter like the versions before it.

The scan is one ``git log --raw`` over the chosen refs (streamed: memory follows the distinct
candidate blobs, not the history) and one ``git cat-file --batch-check`` over those blobs.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable, Iterator

from ..errors import UsageError
from ..gitio.walk import repo_run
from .context import Workspace

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)(b?)\s*$", re.IGNORECASE)
_POWER = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_FILE_MODES = (b"100644", b"100755")


def parse_size(text: str) -> int:
    """Bytes in ``text``: ``1024``, ``500kB`` (1000s, as git-lfs reads it), ``10MiB`` (1024s)."""
    m = _SIZE.match(text)
    if m is None or (m.group(3) and not m.group(2)):
        raise UsageError(f"--above: {text!r} is not a size; write e.g. 1048576, 500kB, 10MB or 1GiB")
    number, prefix, binary = float(m.group(1)), m.group(2).lower(), bool(m.group(3))
    return int(number * (1024 if binary else 1000) ** _POWER[prefix])


def literal_pattern(path: str) -> str:
    """The gitattributes pattern that matches exactly ``path`` (root-anchored, globs escaped)."""
    return "/" + re.sub(r"([*?\[\\])", r"\\\1", path)


def _raw_records(ws: Workspace, tips: list[str]) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(new mode, new blob id, path) of every file a commit reachable from ``tips`` adds or changes."""
    proc = subprocess.Popen(
        ["git", "log", "--raw", "-z", "--no-abbrev", "--no-renames", "--root", "-m", "--format=",
         *tips, "--"], cwd=ws.repo.worktree or ws.repo.git_dir, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    rest = b""
    meta: bytes | None = None
    try:
        while block := proc.stdout.read(1 << 20):
            *tokens, rest = (rest + block).split(b"\0")
            for tok in tokens:
                if meta is None:
                    meta = tok.lstrip(b"\n") if tok.lstrip(b"\n").startswith(b":") else None
                    continue
                fields = meta[1:].split()
                meta = None
                if len(fields) >= 5 and fields[4] != b"D":
                    yield fields[1], fields[3], tok
    finally:
        proc.stdout.close()
        if proc.wait() != 0:
            raise UsageError("git log could not list the files of the refs to migrate")


def paths_above(ws: Workspace, tips: list[str], chosen: Callable[[str], bool], above: int) -> list[str]:
    """Chosen paths that hold a blob bigger than ``above`` bytes in some commit reachable from ``tips``."""
    by_blob: dict[bytes, set[str]] = {}
    for mode, blob, raw in _raw_records(ws, tips):
        path = raw.decode("utf-8", "surrogateescape")
        if mode in _FILE_MODES and chosen(path):
            by_blob.setdefault(blob, set()).add(path)
    return sorted(p for blob in _bigger(ws, by_blob, above) for p in by_blob[blob])


def paths_above_in(ws: Workspace, files: Iterable[tuple[str, str]], above: int) -> list[str]:
    """Of (path, blob id) pairs, the paths whose blob is bigger than ``above`` bytes."""
    by_blob: dict[bytes, set[str]] = {}
    for path, blob in files:
        by_blob.setdefault(blob.encode(), set()).add(path)
    return sorted(p for blob in _bigger(ws, by_blob, above) for p in by_blob[blob])


def _bigger(ws: Workspace, blobs: Iterable[bytes], above: int) -> list[bytes]:
    ids = list(blobs)
    if not ids:
        return []
    out = repo_run(ws.repo, ["cat-file", "--batch-check=%(objectname) %(objectsize)"],
                   b"\n".join(ids) + b"\n")
    big = []
    for line in out.splitlines():
        name, _, size = line.partition(b" ")
        if size.isdigit() and int(size) > above:
            big.append(name)
    return big
