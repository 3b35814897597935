"""Ctrl-C on a terminal, as a user meets it: `git mlv push` and `git mlv fetch` typed through git
(git runs git-mlv), and the terminal's SIGINT sent to the whole foreground process group, git and
git-mlv alike (test_firstday's pull test signals git-mlv alone). Each says one line, no traceback;
git then ends by the signal, as for any interrupted git command (the shell shows 130); and the
rerun finishes: every byte arrives in a fresh clone.

The command is held at a pause point (core/crashpoint.py) once it is at work, so the signal lands
mid-transfer whatever the machine's speed, and let go after the signal."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, write


def _interrupted(words: list[str], cwd: Path, point: str, marker: Path) -> tuple[int, str]:
    """Run `git mlv WORDS` in its own session (a terminal's foreground job), SIGINT its process
    group once it is held at ``point``; its exit status and stderr."""
    resume = marker.with_suffix(".resume")
    env = {**os.environ, "GIT_MLV_TEST_PAUSE_AT": point, "GIT_MLV_TEST_PAUSED": str(marker),
           "GIT_MLV_TEST_RESUME": str(resume)}
    proc = subprocess.Popen(["git", "mlv", *words], cwd=cwd, env=env, start_new_session=True,
                            # a terminal's foreground job takes SIGINT; a suite started in the
                            # background hands its children SIGINT ignored (test_firstday.py)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()  # it must not end before it is interrupted
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    # the transfer in flight (a worker thread held at the point) finishes, as an upload under way
    # does: the interrupted command then stops, it does not wait for the rest
    resume.touch()
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode(errors="replace")


@pytest.mark.slow
def test_ctrl_c_of_push_and_fetch_through_git(repo: Path, tmp_path: Path) -> None:
    files = {f"data/f{i}.bin": random_bytes(1_000_000, seed=40 + i) for i in range(4)}
    for name, data in files.items():
        write(repo / name, data)
    (tmp_path / "store").mkdir()
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    commit_all(repo, "v1")

    code, err = _interrupted(["push"], repo, "push-pack-published", tmp_path / "p1")
    assert code in (-signal.SIGINT, 130), (code, err)
    assert err == "git-mlv: interrupted\n", err
    mlv("push", "-q", cwd=repo)  # the rerun sends what is missing

    clone = tmp_path / "clone"
    git("-c", "mlv.fetchExclude=*", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    code, err = _interrupted(["fetch"], clone, "fetch-flushed", tmp_path / "p2")
    assert code in (-signal.SIGINT, 130), (code, err)
    assert err == "git-mlv: interrupted\n", err
    mlv("fetch", "-q", cwd=clone)
    mlv("checkout", "-q", cwd=clone)
    for name, data in files.items():
        assert (clone / name).read_bytes() == data, name
    assert git("status", "--porcelain", cwd=clone).stdout == b""
