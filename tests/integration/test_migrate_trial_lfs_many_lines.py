"""from-lfs on a history whose .gitattributes has one line per file, as `git lfs migrate import
--above` writes them.

Regression (61f14f8, which converts only paths a filter=lfs line applies to): each file was matched
against every line, so 6,000 lines and 6,000 files took over 5 minutes. Literal lines are now set
lookups and each path is matched once until a new line comes: ~4 s for that history.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from tests.helpers import git, mlv, out

N = 3000


def test_one_line_per_file_costs_what_the_files_cost(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    attrs = "".join(f"/d/s{i % 30}/f{i}.bin filter=lfs diff=lfs merge=lfs -text\n" for i in range(N)).encode()
    stream = [b"blob\nmark :1\ndata %d\n%s\n" % (len(attrs), attrs)]
    for c in range(3):
        stream.append(b"commit refs/heads/main\ncommitter a <a@b> %d +0000\ndata 2\nc%d\n"
                      % (1700000000 + c, c))
        if c == 0:
            stream.append(b"M 100644 :1 .gitattributes\n")
        for i in range(c * N // 3, (c + 1) * N // 3):
            data = b"%d\n" % i
            oid = hashlib.sha256(data).hexdigest()
            obj = repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
            obj.parent.mkdir(parents=True, exist_ok=True)
            obj.write_bytes(data)
            ptr = (b"version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                   % (oid.encode(), len(data)))
            stream.append(b"M 100644 inline d/s%d/f%d.bin\ndata %d\n%s\n" % (i % 30, i, len(ptr), ptr))
    git("fast-import", "--quiet", cwd=repo, input=b"".join(stream))
    git("checkout", "-q", "-f", "main", cwd=repo)
    start = time.monotonic()
    res = out(mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo))
    took = time.monotonic() - start
    assert f"Converted {N} git-lfs file(s)" in res, res
    assert took < 30, f"{took:.1f} s"  # before: every file against every line, ~9M matches
    assert git("cat-file", "-p", "HEAD:d/s7/f7.bin", cwd=repo).stdout.startswith(b"version https://git-mlv")
    assert (repo / "d" / "s7" / "f7.bin").read_bytes() == b"7\n"
