"""git-mlv's hooks beside other tools' hooks (issue 8): real git-lfs in the same repository, and the
shapes pre-commit and husky give a hooks folder.

The data-loss bug these guard against: two pre-push hooks where the first reads all of git's stdin
(the pushed refs) leave the second nothing, so it uploads nothing and `git push` exits 0.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import TEST_CONFIG
from tests.helpers import commit_all, git, mlv, origin_and_store, out, random_bytes, run, sha256_file, write

if shutil.which("git-lfs") is None:  # a missing tool fails, never skips (.ci/run installs it)
    raise RuntimeError("git-lfs is not installed; `apt-get install git-lfs` (see .ci/run)")


@pytest.fixture
def lfs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME where both git-lfs and git-mlv are installed globally, as a user of both has it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for k, v in {"init.defaultBranch": "main", "advice.detachedHead": "false",
                 "protocol.file.allow": "always", **TEST_CONFIG}.items():
        git("config", "--global", k, v, cwd=home)
    git("lfs", "install", cwd=home)
    mlv("install", "--global", cwd=home)
    return home


def _hooks(repo: Path) -> Path:
    return repo / ".git" / "hooks"


def _files(repo: Path, names: list[str]) -> dict[str, str]:
    return {n: sha256_file(repo / n) for n in names}


def _mixed_repo(root: Path, lfs_name: str, mlv_name: str) -> Path:
    src = root / "src"
    src.mkdir()
    git("init", "-q", cwd=src)
    git("lfs", "track", "*.lfs", cwd=src)
    mlv("track", "*.bin", cwd=src)
    mlv("remote", "add", "store", str(root / "store"), "--default", cwd=src)
    write(src / lfs_name, random_bytes(60_000, seed=1))
    write(src / mlv_name, random_bytes(70_000, seed=2))
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "v1", cwd=src)
    git("init", "-q", "--bare", str(root / "origin.git"), cwd=root)
    git("remote", "add", "origin", str(root / "origin.git"), cwd=src)
    return src


def _is_pointer(path: Path) -> bool:
    head = path.read_bytes()[:200]
    return head.startswith(b"version https://git-mlv.dev/") or head.startswith(b"version https://git-lfs")


@pytest.mark.slow
@pytest.mark.parametrize("order", ["lfs-first", "mlv-first"])
def test_git_lfs_and_git_mlv_push_and_two_generations_of_clones(lfs_home: Path, tmp_path: Path,
                                                               order: str) -> None:
    # git smudges in path order: the first file's filter starts (and installs its hooks) first
    lfs_name, mlv_name = ("a.lfs", "b.bin") if order == "lfs-first" else ("z.lfs", "a.bin")
    src = _mixed_repo(tmp_path, lfs_name, mlv_name)
    push = git("push", "origin", "main", cwd=src)
    assert b"git-mlv: pushed data of 1 file(s)" in push.stderr
    assert list((tmp_path / "origin.git" / "lfs" / "objects").rglob("*"))  # git-lfs's upload too
    gen1 = tmp_path / "c1"
    git("clone", "-q", str(tmp_path / "origin.git"), str(gen1), cwd=tmp_path)
    assert _files(gen1, [lfs_name, mlv_name]) == _files(src, [lfs_name, mlv_name])
    # both tools' hooks run in the clone, whichever filter started first
    assert "git-mlv hook pre-push" in (_hooks(gen1) / "pre-push").read_text()
    assert 'git lfs pre-push "$@"' in (_hooks(gen1) / "pre-push.mlv-chained").read_text()
    assert (_hooks(gen1) / "post-commit").exists()  # git-lfs's own, which its installer gave up on
    write(gen1 / "more.bin", random_bytes(50_000, seed=3))
    write(gen1 / "more.lfs", random_bytes(40_000, seed=4))
    git("add", "-A", cwd=gen1)
    git("commit", "-q", "-m", "v2", cwd=gen1)
    push = git("push", "origin", "main", cwd=gen1)
    assert b"git-mlv: pushed data of 1 file(s)" in push.stderr
    gen2 = tmp_path / "c2"
    git("clone", "-q", str(tmp_path / "origin.git"), str(gen2), cwd=tmp_path)
    names = [lfs_name, mlv_name, "more.bin", "more.lfs"]
    assert _files(gen2, names) == _files(gen1, names)
    assert not any(_is_pointer(gen2 / n) for n in names)


@pytest.mark.slow
def test_the_old_advice_and_git_lfs_install_force_are_recomposed(lfs_home: Path, tmp_path: Path) -> None:
    src = _mixed_repo(tmp_path, "a.lfs", "b.bin")
    pre_push = _hooks(src) / "pre-push"
    # what an earlier git-mlv told users to do: add our line to git-lfs's hook (git-lfs reads stdin first)
    shutil.rmtree(_hooks(src))
    git("lfs", "install", "--local", "--force", cwd=src)
    lfs_hook = pre_push.read_text()
    pre_push.write_text(lfs_hook + 'git mlv hook pre-push "$@"\n')
    res = mlv("install", "--local", cwd=src)
    assert b"chained with git-lfs's hook" in res.stdout
    git("push", "origin", "main", cwd=src)
    assert list((tmp_path / "store" / "packs").glob("*.idx"))
    # `git lfs install --force` puts git-lfs's hook back in our place; the next git-mlv filter run
    # (any add or checkout) chains it again
    git("lfs", "install", "--local", "--force", cwd=src)
    assert "git-mlv hook" not in pre_push.read_text()
    write(src / "c.bin", random_bytes(30_000, seed=9))
    git("add", "c.bin", cwd=src)
    assert "git-mlv hook pre-push" in pre_push.read_text()
    assert (_hooks(src) / "pre-push.mlv-chained").read_text() == lfs_hook


@pytest.mark.slow
def test_pushed_commits_already_on_the_remote_tracking_ref_are_still_checked(repo: Path, tmp_path: Path
                                                                            ) -> None:
    """A push that skipped the hook (or lost its stdin) is repaired by the next push."""
    origin = origin_and_store(repo, tmp_path)
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)  # commits there, data not
    write(repo / "two.bin", random_bytes(40_000, seed=2))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "two", cwd=repo)
    res = git("push", "origin", "main", cwd=repo)
    assert b"pushed data of 2 file(s)" in res.stderr
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    for name in ("f0.bin", "two.bin"):
        assert sha256_file(clone / name) == sha256_file(repo / name)
    # the next push walks only what is new: nothing to upload, and it says so in one line
    res = git("push", "origin", "main:other", cwd=repo)
    lines = [x for x in res.stderr.decode().splitlines() if x.startswith("git-mlv:")]
    assert lines == [f"git-mlv: nothing to push: 'store' ({tmp_path / 'store'}) already has the data "
                     "of the pushed commits"]


@pytest.mark.slow
def test_a_script_that_reads_stdin_before_ours_makes_push_fail_loudly(repo: Path, tmp_path: Path) -> None:
    origin_and_store(repo, tmp_path)
    hook = _hooks(repo) / "pre-push"
    hook.write_text('#!/bin/sh\ncat > /dev/null\ngit mlv hook pre-push "$@"\n')
    res = mlv("install", "--local", cwd=repo, check=False)
    assert res.returncode == 1 and b"refs=$(cat)" in res.stderr  # refused, with the exact fix
    res = git("push", "origin", "main", cwd=repo, check=False)
    assert res.returncode != 0
    assert b"got no pushed refs" in res.stderr
    assert not (tmp_path / "store" / "packs").exists()  # nothing uploaded
    # the lines install printed work
    hook.write_text("#!/bin/sh\nrefs=$(cat)\nprintf '%s\\n' \"$refs\" | git mlv hook pre-push \"$@\" "
                    "|| exit $?\nprintf '%s\\n' \"$refs\" | cat > /dev/null\n")
    assert mlv("install", "--local", cwd=repo).returncode == 0
    git("push", "origin", "main", cwd=repo)
    assert list((tmp_path / "store" / "packs").glob("*.idx"))


# A stand-in with the shape pre-commit's installed hook has (the marker line; like its hook-impl, it
# reads stdin once and runs NAME.legacy with those bytes first, "migration mode").
PRE_COMMIT_HOOK = """#!/usr/bin/env bash
# File generated by pre-commit: https://pre-commit.com
# ID: 138fd403232d2ddd5efb44317e38bf03
stdin=$(cat)
here="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$here/pre-push.legacy" ]; then
    printf '%s\\n' "$stdin" | "$here/pre-push.legacy" "$@" || exit $?
fi
printf '%s\\n' "$stdin" > "$here/../pre-commit-saw"
"""


@pytest.mark.slow
def test_pre_commit_runs_ours_as_its_legacy_hook(repo: Path, tmp_path: Path) -> None:
    origin_and_store(repo, tmp_path, files=0)
    hooks = _hooks(repo)
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-push").write_text(PRE_COMMIT_HOOK)
    os.chmod(hooks / "pre-push", 0o755)
    res = mlv("install", "--local", cwd=repo)
    assert b"pre-commit's hook runs git-mlv's as pre-push.legacy" in res.stdout
    assert (hooks / "pre-push").read_text() == PRE_COMMIT_HOOK  # pre-commit's stays in charge
    write(repo / "one.bin", random_bytes(40_000, seed=1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "one", cwd=repo)
    git("push", "origin", "main", cwd=repo)
    assert list((tmp_path / "store" / "packs").glob("*.idx"))
    assert b"refs/heads/main" in (repo / ".git" / "pre-commit-saw").read_bytes()
    # the filter recognises the composition and leaves it alone
    assert mlv("install", "--local", cwd=repo).stdout.count(b"chained") == 0
    assert (hooks / "pre-push").read_text() == PRE_COMMIT_HOOK


# The shape husky v9 gives a repository: core.hooksPath = .husky/_, where every hook sources a
# runner that runs the tracked script .husky/NAME with sh -e, stdin inherited (a stand-in of ours).
HUSKY_RUNNER = '#!/usr/bin/env sh\nn=$(basename "$0")\ns=$(dirname "$(dirname "$0")")/$n\n' \
               '[ ! -f "$s" ] && exit 0\nsh -e "$s" "$@"\n'


@pytest.mark.slow
def test_husky_is_told_the_exact_lines_and_they_work(repo: Path, tmp_path: Path) -> None:
    origin_and_store(repo, tmp_path, files=0)
    husky = repo / ".husky"
    (husky / "_").mkdir(parents=True)
    (husky / "_" / "h").write_text(HUSKY_RUNNER)
    for name in ("pre-push", "post-checkout", "post-merge"):
        (husky / "_" / name).write_text('#!/usr/bin/env sh\n. "$(dirname "$0")/h"')
        os.chmod(husky / "_" / name, 0o755)
    (husky / "pre-push").write_text("echo tests pass\n")
    git("config", "core.hooksPath", ".husky/_", cwd=repo)
    write(repo / "one.bin", random_bytes(40_000, seed=1))
    add = git("add", "-A", cwd=repo)
    assert b"`git push` will not upload git-mlv data: husky runs" in add.stderr  # the filter warns
    assert not (repo / ".git" / "hooks" / "pre-push").exists()  # and writes nowhere
    res = mlv("install", "--local", cwd=repo, check=False)
    assert res.returncode == 1
    err = res.stderr.decode()
    assert ".husky/pre-push" in err and 'git mlv hook pre-push "$@"' in err
    assert (husky / "pre-push").read_text() == "echo tests pass\n"  # tracked files are not edited
    lines = err.split("before any other command:\n", 1)[1].split("git-mlv: error:", 1)[0]
    (husky / "pre-push").write_text(lines + "echo tests pass\n")
    for name in ("post-checkout", "post-merge"):
        (husky / name).write_text(f'git mlv hook {name} "$@"\n')
    assert mlv("install", "--local", cwd=repo).returncode == 0
    git("commit", "-q", "-m", "one", cwd=repo)
    res = git("push", "origin", "main", cwd=repo)
    assert b"pushed data of 1 file(s)" in res.stderr and b"tests pass" in res.stdout + res.stderr


def test_the_filter_installs_hooks_only_into_the_repository(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "one-off-hooks"
    write(repo / "one.bin", random_bytes(1000, seed=1))
    git("-c", f"core.hooksPath={elsewhere}", "add", "-A", cwd=repo)
    assert not elsewhere.exists()
    assert "git-mlv hook pre-push" in (_hooks(repo) / "pre-push").read_text()


def test_uninstall_puts_chained_hooks_back(tmp_path: Path) -> None:
    r = tmp_path / "r"
    r.mkdir()
    git("init", "-q", cwd=r)
    mine = _hooks(r) / "pre-push"
    mine.parent.mkdir(exist_ok=True)
    mine.write_text("#!/bin/sh\necho mine\n")
    os.chmod(mine, 0o755)
    res = run(["git", "mlv", "install", "--local"], cwd=r)
    assert b"chained with your hook" in res.stdout
    assert (_hooks(r) / "pre-push.mlv-chained").read_text() == "#!/bin/sh\necho mine\n"
    mlv("uninstall", "--local", cwd=r)
    assert mine.read_text() == "#!/bin/sh\necho mine\n"
    assert not (_hooks(r) / "pre-push.mlv-chained").exists()


@pytest.mark.slow
def test_status_reports_commits_whose_data_is_not_on_the_remote(repo: Path, tmp_path: Path) -> None:
    import json

    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for i in range(2):
        write(repo / f"f{i}.bin", random_bytes(20_000, seed=i))
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"add f{i}", cwd=repo)
    st = json.loads(mlv("status", "--json", cwd=repo).stdout)
    assert [c["subject"] for c in st["commits_not_on_remote"]] == ["add f1", "add f0"]
    assert "Commits whose data is not all on remote 'store'" in out(mlv("status", cwd=repo))
    mlv("push", cwd=repo)  # HEAD's files: both commits' data
    st = json.loads(mlv("status", "--json", cwd=repo).stdout)
    assert st["commits_not_on_remote"] == [] and st["hook_problems"] == []
    assert (repo / ".git" / "mlv" / "remotes" / "store" / "verified").exists()  # next time: from here
    git("checkout", "-q", "-b", "side", "HEAD~1", cwd=repo)
    write(repo / "f0.bin", random_bytes(20_000, seed=7))
    git("commit", "-q", "-am", "change f0 on side", cwd=repo)
    st = json.loads(mlv("status", "--json", cwd=repo).stdout)
    assert [c["subject"] for c in st["commits_not_on_remote"]] == ["change f0 on side"]


def test_status_names_the_files_whose_data_is_not_on_the_remote(repo: Path, tmp_path: Path) -> None:
    """Per file (asked of the remote's cached indexes batch by batch): before the push the new
    file is listed, the pushed one is not; after the push, none; data not here is not listed."""
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "old.bin", random_bytes(5000, seed=1))
    commit_all(repo, "old")
    mlv("push", cwd=repo)
    write(repo / "data" / "new.bin", random_bytes(6000, seed=2))
    commit_all(repo, "new")
    st = json.loads(out(mlv("status", "--json", cwd=repo)))
    assert st["remote"] == "store" and st["not_on_remote"] == ["data/new.bin"], st
    mlv("push", cwd=repo)
    st = json.loads(out(mlv("status", "--json", cwd=repo)))
    assert st["not_on_remote"] == [] and st["files"] == 2, st
