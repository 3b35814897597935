"""git diff of Python pickles (scikit-learn models) through the real git, on files the real
scikit-learn wrote (tests/data/pickle/make.py): classes, hyperparameters, learned arrays; and the
pickle is never run, whatever it asks for.

Before: a .pkl was summarised as bytes (one sha256 line), whatever changed."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np

from git_mlv.inspect import summarize
from tests.helpers import commit_all, git, out

DATA = Path(__file__).resolve().parent.parent / "data" / "pickle"


def test_a_retrained_model_shows_its_hyperparameter_and_weights(repo: Path) -> None:
    (repo / "data").mkdir()
    shutil.copy(DATA / "v1.pkl", repo / "data" / "model.pkl")
    commit_all(repo, "v1")
    shutil.copy(DATA / "v2.pkl", repo / "data" / "model.pkl")
    d = out(git("diff", cwd=repo))
    assert "-value C 1.0\n+value C 0.1\n" in d, d
    assert "-coef_ sha256 " in d and "+coef_ mean " in d, d
    whole = out(git("diff", "-U100000", cwd=repo))
    assert " object . sklearn.linear_model._logistic.LogisticRegression\n" in whole
    assert " array coef_ float64 [1, 3]\n" in whole and ' value solver "lbfgs"\n' in whole


def test_a_forest_lists_its_trees() -> None:
    lines = summarize(str(DATA / "forest.pkl")).lines()
    assert "object estimators_[1].tree_ sklearn.tree._tree.Tree" in lines
    assert "value n_estimators 2" in lines and "value max_depth 2" in lines
    assert "value n_classes_ 2" in lines  # a numpy scalar, read as the number it holds
    assert any(x.startswith("array estimators_[0].tree_.values float64 [") for x in lines)


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_a_command_runs_nothing(tmp_path: Path, repo: Path) -> None:
    marker = tmp_path / "pwned"
    (repo / "data").mkdir()
    for protocol in (0, 2, 5):  # protocol 0 and 1 have no magic: the name says pickle
        path = repo / "data" / f"evil{protocol}.pkl"
        path.write_bytes(pickle.dumps({"lr": 0.5, "x": _Evil(str(marker)), "w": np.arange(3.0)},
                                      protocol=protocol))
        lines = summarize(str(path)).lines()
        assert "value lr 0.5" in lines and "array w float64 [3]" in lines and "w max 2.0" in lines, lines
        assert any(x.startswith("object x ") for x in lines), lines
    commit_all(repo, "evil")
    git("log", "-p", cwd=repo)
    assert not marker.exists()


def test_what_is_not_a_plain_pickle_is_a_note(tmp_path: Path) -> None:
    joblib_like = tmp_path / "j.pkl"
    joblib_like.write_bytes(pickle.dumps({"a": 1}) + b"\x00" * 64)  # bytes after the pickle's end
    cut = tmp_path / "cut.pkl"
    cut.write_bytes((DATA / "forest.pkl").read_bytes()[:500])
    for path in (joblib_like, cut):
        lines = summarize(str(path)).lines()
        assert lines[0] == "format binary" and any(
            x.startswith("note not a readable pickle file") for x in lines), lines
