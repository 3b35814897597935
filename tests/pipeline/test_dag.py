"""The stage graph: order, cycles, selection, missing deps."""

from __future__ import annotations

import pytest

from git_mlv.cli.cmd_dag import levels, render_dot, render_text
from git_mlv.pipeline import dag
from git_mlv.pipeline.spec import Spec, SpecError, Stage


def spec_of(*stages: Stage) -> Spec:
    return Spec({s.name: s for s in stages})


DIAMOND = spec_of(
    Stage("prep", "p", deps=["raw"], outs=["clean"]),
    Stage("feat_a", "a", deps=["clean"], outs=["fa"]),
    Stage("feat_b", "b", deps=["clean/part"], outs=["fb"]),  # inside an output dir
    Stage("train", "t", deps=["fa", "fb"], params=["conf/p.yaml:lr"], outs=["model"]),
    Stage("conf", "c", outs=["conf"]),  # the param file lives in its output dir
)


def test_order_respects_edges_and_is_deterministic() -> None:
    g = dag.build(DIAMOND)
    order = g.order()
    assert order == ["conf", "prep", "feat_a", "feat_b", "train"]
    for a, b in g.edges():
        assert order.index(a) < order.index(b)
    assert ("conf", "train") in g.edges()


def test_select_takes_ancestors_unless_single() -> None:
    g = dag.build(DIAMOND)
    assert g.select(["feat_b"]) == ["prep", "feat_b"]
    assert g.select(["feat_b"], single=True) == ["feat_b"]
    assert g.descendants("prep") == {"feat_a", "feat_b", "train"}
    with pytest.raises(SpecError, match="unknown stage 'nope'"):
        g.select(["nope"])


def test_cycle_names_its_stages() -> None:
    cyc = spec_of(Stage("a", "x", deps=["c.out"], outs=["a.out"]),
                  Stage("b", "x", deps=["a.out"], outs=["b.out"]),
                  Stage("c", "x", deps=["b.out"], outs=["c.out"]),
                  Stage("free", "x", outs=["f"]))
    with pytest.raises(SpecError, match=r"^stages form a cycle: a -> b -> c -> a$"):
        dag.build(cyc)


def test_missing_dep_named() -> None:
    s = spec_of(Stage("train", "t", deps=["gone.csv", "model_in"]), Stage("m", "m", outs=["model_in"]))
    g = dag.build(s)
    # missing data (exit 1), not a mistake in the definition (SpecError, exit 2)
    with pytest.raises(dag.MissingDependency, match="stage 'train': dependency 'gone.csv' does not exist "
                       "and no stage") as e:
        dag.check_deps(s, g, ["train"], lambda p: False)
    assert e.value.exit_code == 1 and not isinstance(e.value, SpecError)
    dag.check_deps(s, g, ["train"], lambda p: p == "gone.csv")


def test_text_and_dot_rendering() -> None:
    g = dag.build(DIAMOND)
    lv = levels(g.order(), g.edges())
    assert lv == {"conf": 0, "prep": 0, "feat_a": 1, "feat_b": 1, "train": 2}
    text = render_text(g.order(), g.edges())
    assert text[0].startswith("level 0  conf")
    assert text[-1] == "level 2  train   <- conf, feat_a, feat_b"
    dot = "\n".join(render_dot(g.order(), g.edges()))
    assert '"prep" -> "feat_a";' in dot and dot.startswith("digraph")
