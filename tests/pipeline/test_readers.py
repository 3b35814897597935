"""Parameter and metric file readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.pipeline.params import ParamError, values
from git_mlv.pipeline.readers import FormatError, flatten, parse, select
from tests.helpers import mlv, out, write


def test_formats_flatten_to_dotted_keys() -> None:
    assert flatten(parse("m.json", b'{"a": {"b": {"c": 1}}, "d": [1, 2]}')) == {"a.b.c": 1, "d": [1, 2]}
    assert flatten(parse("m.yaml", b"train:\n  loss: 0.5\nacc: 0.9\n")) == {"train.loss": 0.5, "acc": 0.9}
    assert flatten(parse("p.toml", b"[opt]\nlr = 0.01\n")) == {"opt.lr": 0.01}
    log = b"epoch,loss,acc\n1,0.9,0.5\n2,0.4,0.8\n\n"
    assert parse("log.csv", log) == {"epoch": 2, "loss": 0.4, "acc": 0.8}
    assert parse("log.tsv", b"a\tb\nx\t3\n") == {"a": "x", "b": 3}
    assert parse("empty.csv", b"") == {}


def test_parse_error_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="cannot parse m.json"):
        parse("m.json", b"{nope")


def test_select_prefix() -> None:
    flat = {"model.lr": 1, "model.depth": 2, "modelx": 3}
    assert select(flat, "model") == {"model.lr": 1, "model.depth": 2}
    assert select(flat, "") == flat


def test_param_values() -> None:
    files = {"params.yaml": b"lr: 0.1\nmodel:\n  depth: 3\n  act: relu\nother: 1\n"}
    got = values(["params.yaml:lr", "params.yaml:model"], files.get)
    assert got == {"params.yaml:lr": 0.1, "params.yaml:model.depth": 3, "params.yaml:model.act": "relu"}
    assert len(values(["params.yaml"], files.get)) == 4
    with pytest.raises(ParamError, match="no parameter 'nope' in params.yaml"):
        values(["params.yaml:nope"], files.get)
    with pytest.raises(ParamError, match="parameter file 'x.yaml' does not exist"):
        values(["x.yaml:a"], files.get)
    assert values(["x.yaml:a", "params.yaml:nope"], files.get, strict=False) == {}


HP_PY = b"""import os
BATCH = 32
LR: float = 1e-3
SEED = int(os.environ.get("SEED", 0))
class Train:
    epochs = 4
    opt = {"name": "adam"}
    def describe(self):
        return "not a parameter"
"""


def test_python_params_are_read_as_dvc_reads_them() -> None:
    """A `.py` parameter file (DVC's params.py habit): literal constants at the top and in class
    bodies; not run, and an expression is not a parameter. Before, it was parsed as YAML and
    `git mlv run -p hp.py:LR` failed with "cannot parse hp.py: mapping values are not allowed here"
    (and a DVC project migrated with `param = hp.py:LR` could not run `repro`)."""
    assert flatten(parse("hp.py", HP_PY)) == {"BATCH": 32, "LR": 0.001, "Train.epochs": 4,
                                              "Train.opt.name": "adam"}
    got = values(["conf/hp.py:Train", "conf/hp.py:BATCH"], {"conf/hp.py": HP_PY}.get)
    assert got == {"conf/hp.py:Train.epochs": 4, "conf/hp.py:Train.opt.name": "adam", "conf/hp.py:BATCH": 32}
    with pytest.raises(FormatError, match="cannot parse hp.py: "):
        parse("hp.py", b"BATCH = = 3\n")


def test_python_params_drive_repro(repo: Path) -> None:
    """`run -p conf/hp.py:Train.epochs` records the value; editing another constant reruns
    nothing, editing it makes the stage stale and the rerun uses the new value."""
    write(repo / "conf" / "hp.py", HP_PY)
    # exec, not import: a rewrite of the same size in the same second would reuse hp's .pyc
    write(repo / "train.py", b"hp = {}\nexec(open('conf/hp.py').read(), hp)\n"
                             b"open('out.txt', 'w').write(str(hp['Train'].epochs))\n")
    cmd = "python train.py"
    mlv("run", "-n", "train", "-p", "conf/hp.py:Train.epochs", "-o", "out.txt", cmd, cwd=repo)
    assert (repo / "out.txt").read_text() == "4"
    assert "param = conf/hp.py:Train.epochs=4" in (repo / ".gitmlv.lock").read_text()
    write(repo / "conf" / "hp.py", HP_PY.replace(b"BATCH = 32", b"BATCH = 64"))
    assert "Everything is up to date." in out(mlv("repro", cwd=repo))
    write(repo / "conf" / "hp.py", HP_PY.replace(b"epochs = 4", b"epochs = 7"))
    assert "param conf/hp.py:Train.epochs changed" in out(mlv("repro", "--dry-run", cwd=repo))
    mlv("repro", cwd=repo)
    assert (repo / "out.txt").read_text() == "7"
