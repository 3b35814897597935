"""from-lfs on files git-lfs tracks as `lockable` (`git lfs track --lockable`).

The converted line keeps ``lockable``, and git-lfs's post-checkout hook (chained after ours) keeps
checking those files out read-only, to be unlocked by `git lfs lock` on git-lfs's server. Regression:
nothing said so: after the migration a user found the files read-only with no git-mlv word for
it. The summary now names the patterns and the choice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, write


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_lockable_patterns_are_named(tmp_path: Path, mode: list[str]) -> None:
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    git("lfs", "install", "--local", cwd=repo)
    git("lfs", "track", "--lockable", "*.psd", cwd=repo)
    git("lfs", "track", "*.bin", cwd=repo)
    write(repo / "art.psd", random_bytes(3000, seed=1))
    write(repo / "model.bin", random_bytes(3000, seed=2))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "c1", cwd=repo)
    res = out(mlv("migrate", "from-lfs", *mode, "-q", cwd=repo))
    assert "warning: *.psd keep git-lfs's `lockable` attribute" in res and "*.bin keep" not in res, res
    (repo / "art.psd").unlink()
    git("checkout", "--", "art.psd", cwd=repo)
    assert not (repo / "art.psd").stat().st_mode & 0o222  # read-only: what the warning says
    assert (repo / "art.psd").read_bytes() == random_bytes(3000, seed=1)
    assert "lockable" not in out(mlv("migrate", "from-lfs", *mode, "-q", cwd=repo))
