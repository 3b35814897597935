"""from-dvc on foreach and matrix stages (DVC generates one stage per item), made and run by the real
DVC: they are written out as plain stages, dvc.lock's entries follow them, and `git mlv repro`
finds every generated stage up to date.

Regression: from-dvc refused any dvc.yaml with a foreach/matrix stage ("write each item out as a
plain stage first"), the usual way to run one step per dataset split or per model in DVC.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from git_mlv.ops.migrate_dvcexpand import ExpandError, expand
from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_bin, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)

DVC_YAML = b"""\
stages:
  prep:
    foreach: [train, test, data/x.csv]
    do:
      cmd: sh prep.sh ${item}
      deps: [prep.sh]
      outs:
        - out/${item}.txt
  fit:
    matrix:
      model: [cnn, xgb]
      seed: [1, 2]
    cmd: echo ${item.model} ${item.seed} > fit/${key}.txt
    deps: [out/train.txt]
    outs:
      - fit/${key}.txt
  report:
    foreach:
      us: {rate: 1}
      uk: {rate: 2}
    do:
      cmd: echo ${key} ${item.rate} > report-${key}.txt
      outs:
        - report-${key}.txt
"""
PREP = b'mkdir -p "out/$(dirname "$1")" fit && echo "split $1" > "out/$1.txt"\n'


def test_foreach_and_matrix_stages_are_written_out(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", DVC_YAML)
    write(repo / "prep.sh", PREP)
    dvc("repro", "-q", cwd=repo)
    names = dvc("stage", "list", "--name-only", cwd=repo).split()
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "pipeline", cwd=repo)
    before = {p: (repo / p).read_bytes() for p in ("out/train.txt", "out/data/x.csv.txt",
                                                   "fit/xgb-2.txt", "report-uk.txt")}

    res = out(mlv("migrate", "from-dvc", cwd=repo))
    assert "foreach" not in res, res
    stages = out(mlv("stage", "list", cwd=repo))
    ours = {n.replace("@", "-").replace("/", "-").replace(".", "-") for n in names}
    assert len(names) == 3 + 4 + 2 and ours == {"prep-train", "prep-test", "prep-data-x-csv",
                                                "fit-cnn-1", "fit-cnn-2", "fit-xgb-1", "fit-xgb-2",
                                                "report-us", "report-uk"}
    for name in ours:
        assert name in stages, (name, stages)
    spec = git("config", "-f", ".gitmlv", "--get", "stage.fit-xgb-2.cmd", cwd=repo).stdout.decode()
    assert spec.strip() == "echo xgb 2 > fit/xgb-2.txt"
    # dvc.lock's entries, keyed prep@train..., became the lock of the generated stages
    assert "Everything is up to date" in out(mlv("repro", cwd=repo))
    for p, data in before.items():
        assert (repo / p).read_bytes() == data, p
    # and they run: a changed script makes the prep stages (and fit, which reads one) stale
    write(repo / "prep.sh", PREP.replace(b"split", b"part"))
    ran = out(mlv("repro", cwd=repo))
    assert (repo / "out" / "test.txt").read_bytes() == b"part test\n", ran
    assert (repo / "report-uk.txt").read_bytes() == before["report-uk.txt"]


def test_items_from_params_are_refused_with_what_to_do(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "params.yaml", b"splits: [a, b]\n")
    write(repo / "dvc.yaml", b"stages:\n  prep:\n    foreach: ${splits}\n    do:\n      cmd: echo ${item}\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "p", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).stdout
    p = mlv("migrate", "from-dvc", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode != 0 and "Traceback" not in err, err
    assert "foreach items come from ${splits}" in err and "list the items in dvc.yaml" in err, err
    assert git("rev-parse", "HEAD", cwd=repo).stdout == head  # nothing changed


@pytest.mark.parametrize("doc,expected", [
    ({"s": {"foreach": [1, True, 0.5], "do": {"cmd": "run ${item}"}}},
     {"s@1": "run 1", "s@true": "run true", "s@0.5": "run 0.5"}),
    ({"s": {"foreach": [{"a": [1, 2]}, {"a": [3]}], "do": {"cmd": "run ${item.a[0]}", "deps": "${item.a}"}}},
     {"s@0": "run 1", "s@1": "run 3"}),
    ({"s": {"matrix": {"m": ["x"], "f": [["p"], ["q"]]}, "cmd": "run ${item.m} ${key}"}},
     {"s@x-f0": "run x x-f0", "s@x-f1": "run x x-f1"}),
    ({"s": {"foreach": ["a", "a"], "do": {"cmd": "run ${item} \\${HOME}"}}}, {"s@a": "run a \\${HOME}"}),
])
def test_names_and_values_as_dvc_makes_them(doc: dict, expected: dict) -> None:
    stages, names = expand(doc, "dvc.yaml")
    assert {d: stages[o]["cmd"] for d, o in names.items()} == expected


def test_names_never_collide() -> None:
    doc = {"s-a": {"cmd": "plain"}, "s": {"foreach": ["a", "a/"], "do": {"cmd": "run ${item}"}}}
    stages, names = expand(doc, "dvc.yaml")
    assert names == {"s@a": "s-a-2", "s@a/": "s-a-3"} and stages["s-a"] == {"cmd": "plain"}


@pytest.mark.parametrize("doc", [
    {"s": {"foreach": "${xs}", "do": {"cmd": "x"}}},
    {"s": {"foreach": [1], "cmd": "x"}},
    {"s": {"matrix": {"a": 1}, "cmd": "x"}},
    {"s": {"foreach": [{"a": [1]}], "do": {"cmd": "x ${item.a}"}}},
    {"s": {"foreach": [1], "do": {"cmd": "x ${item.nope}"}}},
])
def test_what_cannot_be_written_out_is_an_error(doc: dict) -> None:
    with pytest.raises(ExpandError):
        expand(doc, "dvc.yaml")


def test_dvc_agrees_on_every_generated_stage(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    """Our expansion of DVC_YAML against the real DVC's: names, commands, outputs."""
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", DVC_YAML)
    code = ("import json; from dvc.repo import Repo; print(json.dumps({s.name: [s.cmd, "
            "[str(o.def_path) for o in s.outs]] for s in Repo('.').index.stages}))")
    dvc_python = Path(dvc_bin()).parent / "python"  # DVC's own virtualenv's interpreter
    theirs = yaml.safe_load(subprocess.run([str(dvc_python), "-c", code], cwd=repo, check=True,
                                           capture_output=True).stdout)
    stages, names = expand(yaml.safe_load(DVC_YAML)["stages"], "dvc.yaml")
    assert set(names) == set(theirs)
    for dvc_name, ours in names.items():
        assert [stages[ours]["cmd"], [str(o) for o in stages[ours]["outs"]]] == theirs[dvc_name]
