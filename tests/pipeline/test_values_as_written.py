"""`params diff` and `metrics diff` show values as the parameter and metric files write them, and
the change of two decimals as a reader of the files computes it (real git, real git-mlv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, write

V1 = (b'{"opt": {"lr": 0.1, "betas": [0.9, 0.99]}, "flag": true, "aug": {"kind": "flip"}}',
      b"model:\n  layers: [a, b]\n  head: [{size: 2}]\n", b"acc: 0.1\nsteps: 5\n")
V2 = (b'{"opt": {"lr": 0.3, "betas": [0.9, 0.999]}, "flag": false, "aug": {"kind": "crop"}}',
      b"model:\n  layers: [a, b, c]\n  head: [{size: 2, \"k\\u00e9y\": 1}]\n", b"acc: 0.3\nsteps: 7.5\n")


@pytest.fixture
def two_revs(repo: Path) -> Path:
    """params.json (`-p FILE`: every key), the `model.layers` and `model.head` keys of p.yaml, and
    m.yaml as metrics, at tags v1 and v2."""
    mlv("stage", "add", "-n", "s", "-p", "params.json", "-p", "p.yaml:model.layers,model.head",
        "-M", "m.yaml", "true", cwd=repo)
    for tag, (pj, py, m) in {"v1": V1, "v2": V2}.items():
        write(repo / "params.json", pj)
        write(repo / "p.yaml", py)
        write(repo / "m.yaml", m)
        commit_all(repo, tag)
        git("tag", tag, cwd=repo)
    return repo


def test_params_diff_writes_booleans_lists_and_mappings_as_the_files_do(two_revs: Path) -> None:
    """Python's str() showed `True`, `['a', 'b']` and `[{'size': 2}]`: not what params.json and p.yaml
    say, and not what a user can paste back into them."""
    text = mlv("params", "diff", "v1", "v2", cwd=two_revs).stdout.decode()
    rows = {line.split()[1]: line for line in text.splitlines()[2:]}
    assert rows["flag"].split()[2:] == ["true", "false", "-"]
    assert '["a", "b"]' in rows["model.layers"] and '["a", "b", "c"]' in rows["model.layers"]
    assert '[{"size": 2}]' in rows["model.head"] and '[{"size": 2, "kéy": 1}]' in rows["model.head"]
    assert "True" not in text and "'" not in text
    csv = mlv("params", "diff", "v1", "v2", "--csv", cwd=two_revs).stdout.decode().splitlines()
    assert "params.json,flag,true,false," in csv
    assert 'p.yaml,model.layers,"[""a"", ""b""]","[""a"", ""b"", ""c""]",' in csv
    md = mlv("params", "diff", "v1", "v2", "--md", cwd=two_revs).stdout.decode()
    assert "| params.json | flag | true | false | - |" in md
    # --json keeps the values themselves
    rows_json = {r["key"]: r for r in json.loads(mlv("params", "diff", "v1", "v2", "--json",
                                                      cwd=two_revs).stdout)}
    assert rows_json["flag"]["old"] is True and rows_json["model.layers"]["new"] == ["a", "b", "c"]


def test_change_is_the_difference_of_the_numbers_as_written(two_revs: Path) -> None:
    """0.3 - 0.1 printed 0.19999999999999998 in --json and --csv (binary float arithmetic)."""
    got = {(r["path"], r["key"]): r["change"] for r in
           json.loads(mlv("params", "diff", "v1", "v2", "--json", cwd=two_revs).stdout)}
    assert got[("params.json", "opt.lr")] == 0.2
    got = {r["key"]: r["change"] for r in
           json.loads(mlv("metrics", "diff", "v1", "v2", "--json", cwd=two_revs).stdout)}
    assert got == {"acc": 0.2, "steps": 2.5}
    assert type(got["steps"]) is float
    csv = mlv("metrics", "diff", "v1", "v2", "--csv", cwd=two_revs).stdout.decode().splitlines()
    assert csv[1:] == ["m.yaml,acc,0.1,0.3,0.2", "m.yaml,steps,5,7.5,2.5"]
    write(two_revs / "m.yaml", b"acc: .nan\nsteps: 9\n")  # the work tree
    got = {r["key"]: r["change"] for r in
           json.loads(mlv("metrics", "diff", "v2", "--json", cwd=two_revs).stdout.decode()
                      .replace("NaN", "null"))}
    assert got == {"acc": None, "steps": 1.5}
