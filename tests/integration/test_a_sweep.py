"""A new user's mistakes, verb by verb and place by place (helper A's sweep): outside a repository,
in a bare one, before the first commit, in a subfolder, with git's pathspec magic where git-mlv
takes paths or .gitattributes patterns, absolute paths, wrong option values, unreachable data
remotes. Each case exits non-zero (with the README's code: 1 failed, 2 usage, 5 remote error, 128
not a repository), says one line with no traceback, and leaves what the user had as it was: the
work tree's bytes, git's index, HEAD, .gitattributes, .gitmlv and the pool's files.

One module-scoped set of repositories serves every case (a case must not change it: that is what
it asserts), so the whole sweep costs one setup and a git-mlv process per case.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _hermetic
from tests.helpers import BIN, commit_all, git, mlv, random_bytes, write


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, session_home: Path) -> Iterator[Path]:
    """``repo`` (committed data, pushed to a folder remote), ``unborn`` (tracks, has a data
    remote, no commit), ``bare.git``, ``outside`` (no repository above it), ``src`` (a source
    for get/import whose data remote is an SSH port nothing listens on)."""
    top = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as mp:
        _hermetic(session_home, mp)
        repo = top / "repo"
        repo.mkdir()
        git("init", "-q", cwd=repo)
        mlv("track", "*.bin", "data/**", cwd=repo)
        write(repo / "a.bin", random_bytes(30_000, 1))
        write(repo / "data" / "b.bin", random_bytes(40_000, 2))
        write(repo / "sp ace.bin", random_bytes(5_000, 3))
        write(repo / "-dash.bin", random_bytes(5_000, 5))
        mlv("remote", "add", "store", str(top / "store"), "--default", cwd=repo)
        commit_all(repo, "v1")
        mlv("push", "-q", cwd=repo)
        unborn = top / "unborn"
        unborn.mkdir()
        git("init", "-q", cwd=unborn)
        mlv("track", "*.bin", cwd=unborn)
        mlv("remote", "add", "store", str(top / "store2"), "--default", cwd=unborn)
        git("init", "-q", "--bare", str(top / "bare.git"), cwd=top)
        (top / "outside").mkdir()
        (top / "afile").write_bytes(b"a file\n")
        src = top / "src"
        src.mkdir()
        git("init", "-q", cwd=src)
        mlv("track", "*.bin", cwd=src)
        write(src / "m.bin", random_bytes(5_000, 4))
        # loopback, a port nothing listens on: refused at once, no traffic leaves the machine
        mlv("remote", "add", "st", "ssh://127.0.0.1:1/x", "--default", cwd=src)
        commit_all(src, "v1")
        yield top


def _state(top: Path) -> dict[str, str]:
    """sha256 of every file of the repositories but git's and the pool's caches (what a refused
    command must leave as it was): work trees, index, HEAD and refs, .gitattributes, .gitmlv, the
    pool's packs and indexes, the data remotes' files."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("logs", "cache", "tmp")]
        for name in files:
            if name == "mlv-repro.lock":  # repro's flock file: empty, kept between runs
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, top)
            with open(path, "rb") as f:
                out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def _run(words: list[str], cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([os.path.join(BIN, "git-mlv"), *words], cwd=cwd, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=60, env={**os.environ, **(env or {})})


# (where, words, exit code, what the one line says); where: a folder of `world` ("repo/data":
# the subfolder); {top} in a word is the world's folder
CASES = [
    # outside any repository: git's 128, for every verb that needs one
    ("outside", ["status"], 128, "not a git repository"),
    ("outside", ["track", "*.bin"], 128, "not a git repository"),
    ("outside", ["add", "x.bin"], 128, "not a git repository"),
    ("outside", ["push"], 128, "not a git repository"),
    ("outside", ["remote", "list"], 128, "not a git repository"),
    ("outside", ["dag"], 128, "not a git repository"),
    # a bare repository: the verbs that need a work tree say so
    ("bare.git", ["track", "*.bin"], 1, "needs a work tree"),
    ("bare.git", ["status"], 1, "needs a work tree"),
    # before: "git diff-files: fatal: this operation must be run in a work tree"
    ("bare.git", ["checkout"], 1, "needs a work tree"),
    ("bare.git", ["remote", "add", "s", "{top}/s"], 2, "use --local in a bare repository"),
    ("bare.git", ["push"], 1, "no commit yet"),
    # no commit yet. Before: "'HEAD' names no commit here (a typo, or a ref not fetched yet?)"
    ("unborn", ["push"], 1, "no commit yet, so no data to push"),
    ("unborn", ["fetch"], 1, "no commit yet, so HEAD has no data to fetch"),
    ("unborn", ["diff"], 1, "no commit yet"),
    # pathspec magic where git-mlv takes .gitattributes patterns: before, `track` wrote the text
    # as a pattern matching no file (exit 0), and in data/ `':!x.bin'` became data/**/:!x.bin
    ("repo", ["track", ":(glob)*.zz"], 2, "is git pathspec magic"),
    ("repo/data", ["track", ":!x.bin"], 2, "it has no negative patterns"),
    ("repo", ["untrack", ":(glob)*.bin"], 2, "is git pathspec magic"),
    # ... and where it takes paths: before, "no such file or folder" / "no file ... is under it"
    ("repo", ["add", ":(glob)*.bin"], 2, "git mlv add takes paths, not git's pathspec magic"),
    ("repo", ["checkout", ":!a.bin"], 2, "not git's exclusions"),
    ("repo/data", ["status", ":/a.bin"], 2, "not git's pathspec magic"),
    ("repo", ["pull", ":^a.bin"], 2, "not git's exclusions"),
    ("repo", ["ls-files", "HEAD", ":(icase)A.BIN"], 2, "not git's pathspec magic"),
    # an absolute path of the file system outside the repository: before, typed in data/, `track
    # /etc/passwd` wrote the pattern data/etc/passwd (exit 0)
    ("repo/data", ["track", "{top}/afile"], 2, "is outside the repository"),
    ("repo", ["track", "{top}/repo/data"], 2, "is a folder, and a pattern matches files"),
    # paths that are not there, outside, or folders
    ("repo", ["add", "nope.bin"], 2, "nope.bin: no such file or folder"),
    # a quoted pattern given to add, which takes names: before, only "no such file or folder"
    ("repo", ["add", "data/*.csv"], 2, "a pattern is tracked with `git mlv track 'data/*.csv'`"),
    ("repo", ["add", "{top}/afile"], 2, "outside the repository"),
    ("repo", ["add", ""], 2, "an empty path names nothing"),
    # ... as git refuses it: before, status, ls-files, diff and checkout took it for everything
    ("repo", ["checkout", ""], 2, "an empty path names nothing"),
    ("repo/data", ["status", ""], 2, "an empty path names nothing"),
    ("repo", ["ls-files", "HEAD", ""], 2, "an empty path names nothing"),
    ("repo", ["diff", ""], 2, "an empty path names nothing"),
    ("repo", ["checkout", "nope.bin"], 2, "'nope.bin'"),
    ("repo/data", ["track", "../../x/*.bin"], 2, "reaches outside the repository"),
    ("repo", ["track", "data"], 2, "is a folder"),
    ("repo", ["track", "!x.bin"], 2, "negative patterns are not allowed"),
    # a name that starts with '-' taken for an option: before, `add -dash.bin` said "the
    # following arguments are required: PATH"
    ("repo", ["add", "-dash.bin"], 2, "'-dash.bin' is a file: put -- before names that start with"),
    ("repo", ["checkout", "-dash.bin"], 2, "(`git mlv checkout -- -dash.bin`)"),
    ("repo/data", ["status", "-q"], 2, "unrecognized arguments: -q; see `git mlv status --help`"),
    # named with the action: before, "git mlv remote: ...; see `git mlv remote --help`"
    ("repo", ["remote", "list", "extra"], 2,
     "git mlv remote list: unrecognized arguments: extra; see `git mlv remote list --help`"),
    # wrong option values, unknown verbs and enum values, conflicting options
    ("repo", ["repro", "-j", "0"], 2, "-j needs a number of at least 1"),
    ("repo", ["prune", "--keep-days", "abc"], 2, "invalid float value: 'abc'"),
    ("repo", ["install", "--local", "--global"], 2, "not allowed with argument --local"),
    ("repo", ["remote", "default", "store"], 2, "invalid choice: 'default'"),
    ("repo", ["stauts"], 2, "did you mean 'status'"),
    # habits from git and other tools: before, "'version' is not a git-mlv verb (`git mlv --help`
    # lists them)", and `push -v` only "unrecognized arguments: -v"
    ("outside", ["version"], 2, "'version' is not a git-mlv verb: `git mlv --version`"),
    ("outside", ["init"], 2, "`git init` makes the repository; `git mlv install`"),
    ("repo", ["push", "-v"], 2, "is git mlv's own option, before the verb: `git mlv -v push ...`"),
    ("repo", ["push", "--all", "HEAD"], 2, "give revisions or --all, not both"),
    ("repo", ["help", "nope"], 2, "no verb 'nope'"),
    ("repo", ["help", "remote", "nope"], 2, "no action 'nope' of `git mlv remote` (actions: add,"),
    # data remotes: bad names and URLs, a URL that names a file, a remote that is not there
    ("repo", ["remote", "add", "bad name", "{top}/x"], 2, "invalid remote name 'bad name'"),
    ("repo", ["remote", "add", "--", "-r", "{top}/x"], 2, "invalid remote name '-r'"),
    ("repo", ["remote", "add", "r", "ftp://host/x"], 2, "unsupported remote URL"),
    ("repo", ["remote", "add", "r", "s3://"], 2, "not a valid S3 bucket name"),
    ("repo", ["remote", "add", "r", "{top}/afile"], 2, "is a file, not a folder"),
    ("repo", ["remote", "remove", "nope"], 2, "no data remote named 'nope'"),
    ("repo", ["remote", "modify", "nope", "url", "x"], 2, "no data remote named 'nope'"),
    ("repo", ["push", "stroe"], 2, "'stroe'"),
    # pipelines
    ("repo", ["run", "-n", "a b", "--no-exec", "echo", "hi"], 2, "a stage name is letters"),
    ("repo", ["run", "-n", "x"], 2, "no command given"),
    ("repo", ["repro", "nope"], 2, "unknown stage 'nope'"),
    ("repo", ["stage", "remove", "nope"], 2, "unknown stage 'nope'"),
    # get / import / update. A source's data remote that cannot be read is a remote error (5):
    # before, 2, as if the user had typed something wrong
    ("outside", ["get", "{top}/src", "m.bin"], 5, "cannot read the data remote ssh://127.0.0.1:1/x"),
    ("outside", ["get", "{top}/nowhere", "m.bin"], 5, "cannot fetch from"),
    ("outside", ["get", "{top}/repo", "nope.bin"], 2, "'nope.bin' is not in"),
    ("repo", ["import", "{top}/repo", "a.bin"], 2, "a.bin already exists"),
    ("repo", ["update", "nope"], 2, "nope is not an import"),
    # plumbing fed what git never sends
    ("repo", ["hook", "nope"], 2, "invalid choice: 'nope'"),
    ("repo", ["textconv"], 2, "the following arguments are required: file"),
    # run by hand with paths that are not files: before, "internal error: FileNotFoundError" (70)
    ("repo", ["merge-driver", "{top}/no1", "{top}/no2", "{top}/no3"], 2, "no2: not a file"),
    ("repo", ["merge-driver", "a.bin", "data", "a.bin"], 2, "data: not a file"),
]


@pytest.mark.parametrize("where, words, code, says", CASES,
                         ids=[f"{w}:{' '.join(a)}" for w, a, _, _ in CASES])
def test_a_mistake_is_one_line_and_changes_nothing(world: Path, where: str, words: list[str],
                                                   code: int, says: str) -> None:
    before = _state(world)
    env = {"GIT_CEILING_DIRECTORIES": str(world)} if where == "outside" else None
    p = _run([w.replace("{top}", str(world)) for w in words], world / where, env)
    err = p.stderr.decode(errors="replace")
    lines = err.splitlines()
    assert "Traceback" not in err and "internal error" not in err, err
    assert p.returncode == code, (p.returncode, err)
    assert len(lines) == 1 and lines[0].startswith("git-mlv: error: "), err
    assert says.replace("{top}", str(world)) in lines[0], lines[0]
    assert _state(world) == before


def test_an_absolute_path_in_the_repository_is_tracked_as_that_file(repo: Path) -> None:
    """`git mlv track $PWD/model.h5` (a path pasted from a file manager) wrote the absolute path
    as a pattern, anchored at the root: it matched no file, and the file went into git whole.
    Typed in data/, `track /etc/passwd` wrote data/etc/passwd."""
    write(repo / "data" / "m.h5", b"x" * 2000)
    write(repo / "top.h5", b"y" * 2000)
    mlv("track", str(repo / "data" / "m.h5"), str(repo / "top.h5"), cwd=repo / "data")
    lines = (repo / ".gitattributes").read_text().splitlines()
    assert "data/m.h5 filter=mlv diff=mlv merge=mlv -text" in lines, lines
    assert "/top.h5 filter=mlv diff=mlv merge=mlv -text" in lines, lines
    # a glob, or a path that is not there, stays a pattern anchored where it is typed, as in
    # .gitattributes, even where the machine has that folder at / (/tmp here; /data in a container)
    mlv("track", "/tmp/**", "/nonexistent-folder/x.h5", cwd=repo / "data")
    lines = (repo / ".gitattributes").read_text().splitlines()
    assert "data/tmp/** filter=mlv diff=mlv merge=mlv -text" in lines, lines
    assert "data/nonexistent-folder/x.h5 filter=mlv diff=mlv merge=mlv -text" in lines, lines
    git("add", "-A", cwd=repo)
    for name in ("data/m.h5", "top.h5"):  # staged as pointers: git-mlv holds them
        staged = git("cat-file", "blob", f":{name}", cwd=repo).stdout
        assert staged.startswith(b"version https://git-mlv"), (name, staged[:40])


def test_help_of_an_action(world: Path) -> None:
    """`git mlv help remote add` said "unrecognized arguments: add"; it prints that action's help."""
    p = _run(["help", "remote", "add"], world / "repo")
    assert p.returncode == 0 and p.stdout.decode().startswith("usage: git mlv remote add "), p


def test_the_work_tree_itself_as_a_data_remote_is_warned(repo: Path) -> None:
    """`git mlv remote add store .` (typed in data/: `..`) said nothing, where a folder inside the
    work tree is warned about: the remote's packs/ then sat among the user's files."""
    for cwd, url in ((repo, "."), (repo / "data", "..")):
        (repo / "data").mkdir(exist_ok=True)
        p = mlv("remote", "add", f"s{len(url)}", url, cwd=cwd)
        err = p.stderr.decode().splitlines()
        assert len(err) == 1 and "is this repository's work tree itself" in err[0], err


@pytest.mark.parametrize("words", [["clean"], ["smudge"], ["filter-process"],
                                   ["hook", "pre-push", "origin", "url"]])
def test_plumbing_typed_at_a_terminal_says_what_it_is(repo: Path, words: list[str]) -> None:
    """`git mlv clean` typed at a terminal (as `git clean` is) waited for input without a word;
    Ctrl-D then stored an empty file's pointer. git always feeds these through a pipe, so a
    terminal on stdin means a person: one line saying what the verb is for and what they want."""
    import pty

    ours, theirs = pty.openpty()
    try:
        try:
            p = subprocess.run([os.path.join(BIN, "git-mlv"), *words], cwd=repo, stdin=theirs,
                               capture_output=True, timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"git mlv {' '.join(words)} waited on the terminal") from None
    finally:
        os.close(ours)
        os.close(theirs)
    err = p.stderr.decode()
    assert p.returncode == 2 and err.count("\n") == 1, (p.returncode, err)
    assert err.startswith(f"git-mlv: error: `git mlv {' '.join(words[:2])}` is plumbing: git runs it"), err


def test_diff_with_pathspec_magic_says_so(world: Path) -> None:
    p = _run(["diff", ":!a.bin"], world / "repo")
    err = p.stderr.decode()
    assert p.returncode == 2 and err.count("\n") == 1, err
    assert "not git's exclusions" in err and "git fetch" not in err, err


def test_get_from_a_source_whose_folder_remote_is_gone_is_a_remote_error(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    git("init", "-q", cwd=src)
    mlv("track", "*.bin", cwd=src)
    write(src / "m.bin", random_bytes(3_000, 6))
    mlv("remote", "add", "st", str(tmp_path / "store"), "--default", cwd=src)
    commit_all(src, "v1")
    (tmp_path / "store").rmdir()
    p = _run(["get", str(src), "m.bin", "-o", str(tmp_path / "out.bin")], tmp_path)
    assert p.returncode == 5, p.stderr.decode()
