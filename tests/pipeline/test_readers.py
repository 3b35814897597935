"""Parameter and metric file readers."""

from __future__ import annotations

import pytest

from git_mlv.pipeline.params import ParamError, values
from git_mlv.pipeline.readers import FormatError, flatten, parse, select


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
