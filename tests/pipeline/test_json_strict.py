"""`--json` output is strict JSON: a diverged metric (NaN, Infinity) was written as `NaN`, which
jq, JavaScript and every strict parser refuse. It is now `null`, as in docs/inspect.md."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, mlv, out, write


def _strict(text: str) -> object:
    def refuse(word: str) -> object:
        raise AssertionError(f"not strict JSON: {word}")

    return json.loads(text, parse_constant=refuse)


def test_metrics_json_writes_null_for_nan_and_infinity(repo: Path) -> None:
    mlv("stage", "add", "-n", "train", "-M", "m.json", "true", cwd=repo)
    write(repo / "m.json", b'{"loss": NaN, "acc": 0.5, "grad": Infinity}')
    commit_all(repo, "v1")
    shown = _strict(out(mlv("metrics", "show", "--json", cwd=repo)))
    assert "null" in json.dumps(shown) and "0.5" in json.dumps(shown), shown
    write(repo / "m.json", b'{"loss": 0.25, "acc": 0.6, "grad": -Infinity}')
    rows = _strict(out(mlv("metrics", "diff", "--json", cwd=repo)))
    assert isinstance(rows, list)
    assert {(r["key"], r["old"], r["new"]) for r in rows} == {
        ("acc", 0.5, 0.6), ("loss", None, 0.25), ("grad", None, None)}
