"""from-dvc of a DVC project made with `dvc init --subdir` (one folder of a larger repository: its
.dvc folder, cache and config live there), run in that folder (real DVC, real git).

Regression: the command looked for .dvc at the repository root only and said "no .dvc folder here:
run from-dvc at the root of a DVC project", in the very folder holding .dvc; such projects could not
be converted at all.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, one_error_line, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env  # noqa: F401  (dvc_env: a fixture)


def test_a_subdir_project_is_converted_from_its_folder(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = tmp_path / "repo"
    proj = repo / "proj"
    proj.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", "--subdir", cwd=proj)
    dvc("remote", "add", "-q", "-d", "store", "../../dvc-store", cwd=proj)  # relative to proj/
    write(proj / "d.bin", b"data\n")
    dvc("add", "-q", "d.bin", cwd=proj)
    write(proj / "dvc.yaml", b"stages:\n  s:\n    cmd: cp d.bin o.bin\n    deps: [d.bin]\n"
                             b"    outs: [o.bin]\n")
    dvc("repro", "-q", cwd=proj)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    err = one_error_line(mlv("migrate", "from-dvc", cwd=repo, check=False), 2)
    assert "no .dvc folder here or in a folder above it: run from-dvc in the DVC project's folder" in err
    res = out(mlv("migrate", "from-dvc", cwd=proj))
    assert "git mlv remote add store ../../dvc-store --default" in res, res
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert (proj / "o.bin").read_bytes() == b"data\n"
    assert git("show", "HEAD:proj/o.bin", cwd=repo).stdout.startswith(b"version https://git-mlv.dev/spec/v1")
    assert out(mlv("repro", "--dry-run", cwd=repo)).splitlines()[-1] == "Everything is up to date."
