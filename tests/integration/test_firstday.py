"""A new user's first hours: the mistakes of a first day, each answered by one line that says what
to do, and nothing half done."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, one_error_line, random_bytes, sha256_file, write


def test_migrate_without_identity_says_how_to_set_it(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`migrate import --no-rewrite` writes a commit. Before, with no user.email it ended on git's
    last line ("git var: fatal: unable to auto-detect email address (got 'root@vm.(none)')"), which
    says nothing of what to do; now one line names the two settings, and the rerun converts."""
    repo = tmp_path / "r"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    data = random_bytes(40_000, seed=7)
    write(repo / "a.bin", data)
    git("add", "a.bin", cwd=repo)
    git("commit", "-q", "-m", "plain", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).stdout
    for k in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(k)
    # git would otherwise make up an address from the host name, which works on some machines
    git("config", "user.useConfigOnly", "true", cwd=repo)

    proc = mlv("migrate", "import", "--include=*.bin", "--no-rewrite", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "git config --global user.email" in err and "user.name" in err
    assert git("rev-parse", "HEAD", cwd=repo).stdout == head  # nothing committed

    git("config", "user.name", "T", cwd=repo)
    git("config", "user.email", "t@example.com", cwd=repo)
    mlv("migrate", "import", "--include=*.bin", "--no-rewrite", cwd=repo)
    assert git("cat-file", "-p", "HEAD:a.bin", cwd=repo).stdout.startswith(b"version ")
    assert sha256_file(repo / "a.bin") == sha256_file(write(tmp_path / "want", data))
    assert git("status", "--porcelain", cwd=repo).stdout == b""


@pytest.mark.parametrize("verb", [["status"], ["add", "x.bin"], ["track", "*.h5"]])
def test_inside_dot_git_is_not_called_a_bare_repository(repo: Path, tmp_path: Path,
                                                        verb: list[str]) -> None:
    """Typed inside `.git` (a `cd .git` too many), a verb said "run it inside a checkout, not a bare
    repo": the repository is not bare, and the user is inside one. Now the line says where they are
    and what to do; a real bare repository still gets the bare line."""
    (repo / ".git" / "sub").mkdir()
    for where in (repo / ".git", repo / ".git" / "sub"):
        err = one_error_line(mlv(*verb, cwd=where, check=False), 1)
        assert "inside the repository's .git folder: cd out of it" in err
        assert "bare" not in err
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    assert "not a bare repo" in one_error_line(mlv(*verb, cwd=bare, check=False), 1)


def test_a_name_with_a_leading_dash_after_double_dash(repo: Path, tmp_path: Path) -> None:
    """`git mlv pull -- -dash.bin` (and `diff -- -dash.bin`) said "unrecognized arguments:
    -dash.bin", exit 2: argparse's intermixed parsing drops the words after `--` when no word comes
    before it. status, ls-files and checkout took the same line."""
    data = random_bytes(30_000, seed=11)
    write(repo / "data" / "-dash.bin", data)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    mlv("push", cwd=repo)
    clone = tmp_path / "clone"
    git("-c", "mlv.fetchExclude=*", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    sub = clone / "data"
    assert (sub / "-dash.bin").read_bytes().startswith(b"version ")
    mlv("pull", "--", "-dash.bin", cwd=sub)
    assert (sub / "-dash.bin").read_bytes() == data
    write(sub / "-dash.bin", data + b"more")
    out = mlv("diff", "--", "-dash.bin", cwd=sub).stdout.decode()
    assert "modified  data/-dash.bin" in out, out
    git("checkout", "--", "-dash.bin", cwd=sub)
    assert mlv("pull", "-q", "--", "-dash.bin", cwd=sub).stdout == b""  # an option before `--` still is one
    assert (sub / "-dash.bin").read_bytes() == data


def test_ctrl_c_during_pull_is_one_line_and_the_rerun_finishes(repo: Path, tmp_path: Path) -> None:
    """Ctrl-C on a terminal sends SIGINT to git and to git-mlv, and git sends git-mlv its own copy:
    the second one landed while the first was being handled (a thread pool shutting down, the
    interpreter's teardown) and printed a traceback under "git-mlv: interrupted" (1 run in 10 of
    `timeout -s INT 2.5 git mlv pull`). Here SIGINTs come every 5 ms for a second after the first,
    so one lands in that window whatever the machine's speed: one line, exit 130, and the rerun
    brings every byte.

    The pull is held (GIT_MLV_TEST_PAUSE_AT, core/crashpoint.py) after its first batch reached
    the pool, with its fetch threads still at work, and the SIGINTs start once it says it is
    there: timing it instead, CI saw pulls finish before the first SIGINT landed on a loaded
    machine, four times in a row."""
    import os
    import signal
    import subprocess
    import time

    from tests.helpers import BIN

    files = {f"data/f{i}.bin": random_bytes(2_000_000, seed=20 + i) for i in range(8)}
    for name, data in files.items():
        write(repo / name, data)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    mlv("push", "-q", cwd=repo)

    clone = tmp_path / "clone"
    git("-c", "mlv.fetchExclude=*", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    paused = tmp_path / "paused"
    proc = subprocess.Popen([os.path.join(BIN, "git-mlv"), "pull"], cwd=clone,
                            env={**os.environ, "GIT_MLV_TEST_PAUSE_AT": "fetch-flushed",
                                 "GIT_MLV_TEST_PAUSED": str(paused)},
                            # a terminal's foreground job takes SIGINT; a suite started in the
                            # background (`cmd &` without job control) hands its children SIGINT
                            # ignored, and git-mlv then leaves it so: the pull slept on
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not paused.exists():
        assert proc.poll() is None, proc.communicate()  # it may not end before it is interrupted
        assert time.monotonic() < deadline
        time.sleep(0.002)
    end = time.monotonic() + 1.0
    while proc.poll() is None and time.monotonic() < end:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.005)
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err.decode() and "Exception ignored" not in err.decode(), err
    assert proc.returncode == 130, err
    assert err.decode().endswith("git-mlv: interrupted\n"), err
    assert "KeyboardInterrupt" not in err.decode(), err

    mlv("pull", cwd=clone)
    for name, data in files.items():
        assert (clone / name).read_bytes() == data, name
    assert git("status", "--porcelain", cwd=clone).stdout == b""


def test_a_mistyped_path_is_not_called_a_missing_revision(repo: Path) -> None:
    """`git mlv status nosuch` (and checkout, pull) said "'nosuch' is neither a tracked path nor a
    revision known here ... `git fetch origin nosuch` brings it", though these verbs take no
    revision (found by helper h3). They say the path names no tracked file; ls-files, which takes
    a revision, keeps the hint."""
    write(repo / "a.bin", random_bytes(20_000, seed=5))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    for verb in ("status", "checkout", "pull"):
        err = one_error_line(mlv(verb, "nosuch", cwd=repo, check=False), 2)
        assert "'nosuch'" in err and "git fetch" not in err and "revision" not in err, (verb, err)
    err = one_error_line(mlv("ls-files", "nosuch", cwd=repo, check=False), 2)
    assert "git fetch --tags" in err, err
