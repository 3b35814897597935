"""`git diff` of TIFF images shows what a data scientist reads, not two sha256s
(docs/inspect.md): a TIFF stack's pages, size, mode, sample type and compression. Each drives the
real git binary and compares the hunks byte for byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.helpers import commit_all, git, out


def _diff(repo: Path, path: str) -> str:
    return out(git("diff", "HEAD~1", "HEAD", "--", path, cwd=repo)).split("\n", 4)[4]  # from "+++"


def test_a_tiff_stack_shows_its_pages(repo: Path) -> None:
    import numpy as np
    from PIL import Image

    tif = repo / "data" / "stack.tif"
    tif.parent.mkdir()
    frame = np.arange(64 * 32, dtype=np.uint16).reshape(32, 64)
    pages = [Image.fromarray(frame) for _ in range(3)]
    pages[0].save(tif, save_all=True, append_images=pages[1:])
    old_size, old_sha = tif.stat().st_size, hashlib.sha256(tif.read_bytes()).hexdigest()
    commit_all(repo, "v1")
    pages.append(Image.fromarray(np.zeros((16, 8, 3), np.uint8)))
    pages[0].save(tif, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    new_size, new_sha = tif.stat().st_size, hashlib.sha256(tif.read_bytes()).hexdigest()
    commit_all(repo, "v2")
    assert _diff(repo, "data/stack.tif") == f"""\
@@ -1,9 +1,10 @@
 format tiff
-size {old_size} ({old_size / 1024:.1f} KiB)
-pages 3
+size {new_size} ({new_size / 1024:.1f} KiB)
+pages 4
 width 64
 height 32
 mode L 16-bit
 dtype uint16
-compression none
-sha256 {old_sha}
+compression lzw
+page 3 width 8 height 16 mode RGB dtype uint8 compression lzw
+sha256 {new_sha}
"""
