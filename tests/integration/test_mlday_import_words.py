"""`git mlv update` refusing an import whose files were deleted here said "raw/x is modified":
git diff --name-only lists deletions too. It now says "deleted" for those (real git, real
repositories, the folder data remote of the source)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import git, mlv, one_error_line, push_files, random_bytes


def test_update_names_deleted_files_as_deleted(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    git("init", "-q", cwd=src)
    push_files(src, tmp_path, {"data/a.bin": random_bytes(5000, seed=1),
                               "data/b.bin": random_bytes(5000, seed=2)}, "data/**")
    dst = tmp_path / "dst"
    dst.mkdir()
    git("init", "-q", cwd=dst)
    git("commit", "-q", "--allow-empty", "-m", "start", cwd=dst)
    mlv("import", str(src), "data", "-o", "raw", cwd=dst)
    git("commit", "-q", "-m", "import", cwd=dst)
    shutil.rmtree(dst / "raw")
    err = one_error_line(mlv("update", "raw", cwd=dst, check=False), 2)
    assert "(raw/a.bin is deleted)" in err, err
    git("checkout", "-q", "--", "raw", cwd=dst)
    (dst / "raw" / "b.bin").write_bytes(b"edited")
    err = one_error_line(mlv("update", "raw", cwd=dst, check=False), 2)
    assert "(raw/b.bin is modified)" in err, err
