"""from-dvc of a `.dvc` file made by `dvc import` (the real DVC, from a local DVC repository).

Regression: the imported data was converted like any `dvc add`ed file and the import's source
(repository, path, revision) vanished with the `.dvc` file without a word. Its data is still
converted; the summary now names the link it drops, under "Not converted".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_a_dvc_import_is_named_with_its_source(tmp_path: Path, dvc_env: Path,  # noqa: F811
                                              mode: list[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    src = dvc_repo(src)
    data = random_bytes(7000, seed=3)
    write(src / "raw.bin", data)
    dvc("add", "-q", "raw.bin", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "raw", cwd=src)
    repo = dvc_repo(tmp_path)
    dvc("import", "-q", str(src), "raw.bin", "-o", "raw.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "import", cwd=repo)
    res = out(mlv("migrate", "from-dvc", *mode, cwd=repo))
    assert f"Not converted, raw.bin.dvc: `dvc import` of raw.bin from {src}" in res, res
    assert (repo / "raw.bin").read_bytes() == data
    assert git("cat-file", "-p", "HEAD:raw.bin", cwd=repo).stdout.startswith(b"version https://git-mlv")
