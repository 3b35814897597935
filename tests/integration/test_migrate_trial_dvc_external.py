"""from-dvc of stages with DVC's external dependencies: a path outside the repository, a URL (real
DVC wrote the dvc.yaml and, for the local one, the dvc.lock).

Regression: an absolute path stopped the whole migration ("path ... is outside the repository"), and
a URL was made a path of the work tree (`https:/example.com/x.csv`, `//` collapsed), committed as a
dependency no stage makes: every `git mlv repro` then failed naming that mangled path. Such a
dependency is now left out of the stage and named in the summary; the stage is converted, its lock
too when dvc.lock matches the files.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)


def test_external_dependencies_are_named_not_converted(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    shared = write(tmp_path / "shared" / "ext.csv", b"a,b\n1,2\n")
    dvc("stage", "add", "-q", "-n", "get", "-d", str(shared), "-o", "raw.csv", f"cp {shared} raw.csv",
        cwd=repo)
    dvc("repro", "-q", cwd=repo)  # dvc.lock records the external file's md5
    dvc("stage", "add", "-q", "-n", "web", "-d", "https://example.com/x.csv", "-o", "web.csv",
        "echo x > web.csv", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    res = out(mlv("migrate", "from-dvc", cwd=repo))
    assert (f"Not converted, dvc.yaml: stage 'get': external dependency {shared}: a change there no "
            "longer makes it stale") in res, res
    assert "stage 'web': external dependency https://example.com/x.csv" in res, res
    spec = (repo / ".gitmlv").read_text()
    assert "dep =" not in spec and "out = raw.csv" in spec and "out = web.csv" in spec, spec
    dry = out(mlv("repro", "--dry-run", cwd=repo)).splitlines()
    assert dry == ["Stage 'get' is up to date", "Would run stage 'web': never run"], dry


def test_an_external_output_is_a_clear_error(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", b"stages:\n  up:\n    cmd: echo\n    outs:\n      - s3://bucket/out.csv:\n"
                             b"          cache: false\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    p = mlv("migrate", "from-dvc", cwd=repo, check=False)
    assert p.returncode == 1
    assert p.stderr.decode() == ("git-mlv: error: dvc.yaml: stage 'up': output 's3://bucket/out.csv' is "
                                 "outside the repository (a DVC external output), which from-dvc does not "
                                 "convert; have the stage write it in the work tree, or remove it from "
                                 "dvc.yaml, first\n"), p.stderr.decode()
