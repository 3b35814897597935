"""A `git add` that meets a `git mlv gc` under way waits for it: it should say so.

gc holds the pool's ``gc.lock`` exclusively from before it reads the refs until it has deleted
what nothing needs (minutes on a big pool); every writer (the clean filter of `git add`, `git
commit -a`, a `git status` that re-reads a racily clean file, a fetch) takes it shared, waiting.
Today that wait is silent: the user sees `git add` hang. (gc itself, meeting a writer, stops at
once with one line: "another git-mlv process is writing to the pool; run gc again when it is
done".)
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.helpers import BIN, commit_all, git, random_bytes, write


def test_add_during_gc_says_it_waits(repo: Path, tmp_path: Path) -> None:
    write(repo / "a.bin", random_bytes(50_000, seed=61))
    commit_all(repo, "a")
    write(repo / "b.bin", random_bytes(50_000, seed=62))
    paused, resume = tmp_path / "paused", tmp_path / "resume"
    env = {**os.environ, "GIT_MLV_TEST_PAUSE_AT": "gc-locked", "GIT_MLV_TEST_PAUSED": str(paused),
           "GIT_MLV_TEST_RESUME": str(resume)}
    gc = subprocess.Popen([os.path.join(BIN, "git-mlv"), "gc"], cwd=repo, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err_path = tmp_path / "add.err"
    add = None
    try:
        deadline = time.monotonic() + 30
        while not paused.exists():
            assert gc.poll() is None and time.monotonic() < deadline, "gc never took its lock"
            time.sleep(0.01)
        with open(err_path, "wb") as err:
            add = subprocess.Popen(["git", "add", "b.bin"], cwd=repo, stderr=err)
        deadline = time.monotonic() + 3  # the line comes as the wait begins
        while b"waiting" not in err_path.read_bytes() and time.monotonic() < deadline:
            assert add.poll() is None, err_path.read_bytes()  # it must wait, not fail
            time.sleep(0.02)
        said = err_path.read_bytes().decode()
    finally:
        resume.touch()
        gc.communicate(timeout=60)
        if add is not None:
            add.wait(timeout=60)
    assert add.returncode == 0, err_path.read_bytes()
    assert "b.bin" in git("diff", "--cached", "--name-only", cwd=repo).stdout.decode()
    lines = [line for line in said.splitlines() if line.strip()]
    assert len(lines) == 1 and "waiting" in lines[0] and "gc" in lines[0], said
