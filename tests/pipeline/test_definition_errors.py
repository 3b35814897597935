"""A pipeline definition that cannot be right (a cycle, an output claimed twice, a bad stage name, an
unknown stage named) is a usage error, exit 2; a dependency missing from the work tree is missing
data, exit 1 (README.md's table of exit codes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import mlv, one_error_line, write


@pytest.mark.parametrize("setup, args, message", [
    ([["stage", "add", "-n", "a", "-d", "b.out", "-o", "a.out", "x"]],
     ["stage", "add", "-n", "b", "-d", "a.out", "-o", "b.out", "y"], "stages form a cycle: "),
    ([["stage", "add", "-n", "a", "-o", "a.out", "x"]],
     ["stage", "add", "-n", "b", "-o", "a.out", "y"], "output 'a.out' is already an output of stage 'a'"),
    ([], ["stage", "add", "-n", "bad name", "x"], "a stage name is letters"),
    ([], ["run", "-n", "bad/name", "true"], "a stage name is letters"),
    ([["stage", "add", "-n", "a", "-o", "a.out", "x"]], ["repro", "nope"], "unknown stage 'nope'"),
])
def test_definition_mistakes_are_usage_errors(repo: Path, setup: list[list[str]], args: list[str],
                                              message: str) -> None:
    for s in setup:
        mlv(*s, cwd=repo)
    err = one_error_line(mlv(*args, cwd=repo, check=False), 2)
    assert message in err


def test_a_cycle_written_by_hand_is_a_usage_error_at_every_verb(repo: Path) -> None:
    write(repo / ".gitmlv", b'[stage "a"]\n\tcmd = x\n\tdep = b.out\n\tout = a.out\n'
                            b'[stage "b"]\n\tcmd = y\n\tdep = a.out\n\tout = b.out\n')
    for verb in (["repro"], ["dag"], ["stage", "list"]):
        assert "stages form a cycle: a -> b -> a" in one_error_line(mlv(*verb, cwd=repo, check=False), 2)


def test_a_path_written_by_hand_the_dvc_way_names_the_spelling_that_works(repo: Path) -> None:
    """dvc.yaml takes `./data`; .gitmlv wants clean root-relative paths. The error said only that
    the path was not clean."""
    write(repo / ".gitmlv", b'[stage "a"]\n\tcmd = x\n\tdep = ./data\n\tout = model\n')
    err = one_error_line(mlv("repro", cwd=repo, check=False), 2).rstrip("\n")
    assert err == "git-mlv: error: stage 'a': './data' is not a clean path relative to the repository root " \
                  "(write 'data')", err
    write(repo / ".gitmlv", b'[stage "a"]\n\tcmd = x\n\tdep = data/../raw\n')
    err = one_error_line(mlv("dag", cwd=repo, check=False), 2)
    assert "'data/../raw' is not a clean path relative to the repository root (write 'raw')" in err


def test_a_working_directory_is_named_as_typed(repo: Path) -> None:
    """`-w /tmp` was refused as "'../../..' is outside the repository"; a wdir that does not exist
    failed with Python's "[Errno 2] No such file or directory"."""
    err = one_error_line(mlv("run", "-n", "a", "-w", "/", "true", cwd=repo, check=False), 2)
    assert "error: '/' is outside the repository" in err, err
    err = one_error_line(mlv("run", "-n", "a", "-w", "nosuch", "true", cwd=repo, check=False), 1)
    assert "stage 'a' failed: its working directory 'nosuch' (wdir) does not exist;" in err, err
    (repo / "sub").mkdir()
    mlv("run", "-n", "b", "-w", "sub", "-O", "sub/here.txt", "pwd > here.txt", cwd=repo)
    assert (repo / "sub" / "here.txt").exists()
    mlv("run", "-n", "c", "-w", "..", "-O", "../top.txt", "true > top.txt", cwd=repo / "sub")
    assert b"wdir" not in (repo / ".gitmlv").read_bytes().split(b'[stage "c"]')[1]


def test_a_missing_dependency_is_missing_data(repo: Path) -> None:
    mlv("stage", "add", "-n", "a", "-d", "input.csv", "-o", "a.out", "cp input.csv a.out", cwd=repo)
    err = one_error_line(mlv("repro", cwd=repo, check=False), 1)
    assert "dependency 'input.csv' does not exist" in err
