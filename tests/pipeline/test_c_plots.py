"""`git mlv plots --file` on logs as people's tools write them (helper C)."""

from __future__ import annotations

import pytest

from git_mlv.pipeline import readers
from git_mlv.pipeline.metrics import curves


def test_a_log_of_several_splits_plots_each() -> None:
    """A training log keeping one list per split (``{"train": [...], "val": [...]}``) was "not a
    list of records" for `git mlv plots --file`; each split's columns are named by it now, and the
    column all lists start with (the step) stays the x axis."""
    doc = (b'{"train": [{"step": 0, "loss": 1}, {"step": 1, "loss": 0.5}],'
           b' "val": [{"step": 0, "loss": 2, "acc": 0.1}, {"step": 1, "loss": 1.5, "acc": 0.3}]}')
    rows = readers.rows("log.json", doc)
    assert rows[0] == {"step": 0, "train.loss": 1}
    assert rows[-1] == {"step": 1, "val.loss": 1.5, "val.acc": 0.3}
    x, panels = curves({"v1": rows}, None, None)
    assert x == "step"
    assert panels == {"train.loss": {"v1": [(0, 1), (1, 0.5)]}, "val.loss": {"v1": [(0, 2), (1, 1.5)]},
                      "val.acc": {"v1": [(0, 0.1), (1, 0.3)]}}
    with pytest.raises(readers.FormatError, match="not a list of records"):
        readers.rows("log.json", b'{"train": [1, 2], "val": [3]}')
