"""`git mlv plots --file`: a table file (a training log: CSV, TSV, JSON or YAML records) drawn one
line per revision. Before, plots drew only one value per revision (a CSV's last row), so the curves
a DVC user draws with `dvc plots diff v1 v2` could not be drawn at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from git_mlv.pipeline.metrics import curves
from tests.helpers import commit_all, git, mlv, write


@pytest.fixture
def logs(repo: Path) -> Path:
    """logs/train.csv, logs/train.tsv and logs/train.json at tags v1 and v2; the work tree's
    JSON differs from v2's."""
    for tag, losses in {"v1": [1.5, 0.8, 0.4], "v2": [1.5, 1.1, 0.9, 0.7]}.items():
        rows = [{"epoch": i, "loss": v, "note": "ok"} for i, v in enumerate(losses)]
        csv = "epoch,loss,note\n" + "".join(f"{r['epoch']},{r['loss']},ok\n" for r in rows)
        write(repo / "logs" / "train.csv", csv.encode())
        write(repo / "logs" / "train.tsv", csv.replace(",", "\t").encode())
        write(repo / "logs" / "train.json", json.dumps({"train": rows}).encode())  # DVC's shape
        commit_all(repo, tag)
        git("tag", tag, cwd=repo)
    write(repo / "logs" / "train.json", json.dumps([{"step": 0, "loss": 2.0}]).encode())
    return repo


@pytest.mark.parametrize("name", ["train.csv", "train.tsv", "train.json"])
def test_a_training_log_across_two_tags(logs: Path, tmp_path: Path, name: str) -> None:
    from PIL import Image

    target = tmp_path / "curves.png"
    p = mlv("plots", "--file", name, "v1", "v2", "-o", str(target), cwd=logs / "logs")
    assert p.stdout.decode() == f"Wrote {target} (1 column(s) of {name} over 2 revision(s))\n"
    assert p.stderr == b""
    with Image.open(target) as im:
        assert im.format == "PNG" and im.size[0] > 300
        im.verify()


def test_curves_are_the_rows_of_each_revision() -> None:
    by_rev = {"v1": [{"epoch": 0, "loss": 1.5, "note": "ok"}, {"epoch": 1, "loss": 0.8, "note": "ok"}],
              "v2": [{"epoch": 0, "loss": 1.5}, {"epoch": 1, "loss": "nan?"}, {"epoch": 2, "loss": 0.9}]}
    assert curves(by_rev, None, None) == ("epoch", {"loss": {"v1": [(0, 1.5), (1, 0.8)],
                                                             "v2": [(0, 1.5), (2, 0.9)]}})
    # no numeric first column: the row number along x
    assert curves({"a": [{"name": "x", "acc": 0.5}, {"name": "y", "acc": 0.7}]}, None, None) == (
        "row", {"acc": {"a": [(0, 0.5), (1, 0.7)]}})
    assert curves(by_rev, "loss", None) == ("loss", {"epoch": {"v1": [(1.5, 0), (0.8, 1)],
                                                              "v2": [(1.5, 0), (0.9, 2)]}})


def test_plots_file_mistakes_are_one_line(logs: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x.png")
    cases = [
        (["--file", "logs/train.csv", "-x", "nope", "v1"], 2,
         "no column 'nope' to put along x (columns: epoch, loss, note)"),
        (["-x", "epoch"], 2, "-x goes with --file (the column of a table file along the x axis)"),
        (["--file", "logs/none.csv", "v1", "v2"], 1, "logs/none.csv: no such file at v1, v2"),
        (["--file", "logs/train.csv", "-m", "acc", "v1"], 1,
         "no column named 'acc' (columns: epoch, loss, note)"),
        (["--file", "logs/train.csv", "v9"], 2, "unknown revision 'v9'"),
    ]
    for args, code, message in cases:
        p = mlv("plots", *args, "-o", out, cwd=logs, check=False)
        err = p.stderr.decode()
        assert p.returncode == code and err.startswith(f"git-mlv: error: {message}"), (args, err)
        assert err.count("\n") == 1, err
    write(logs / "m.json", b'{"acc": 0.5}')  # not records
    p = mlv("plots", "--file", "m.json", "workspace", "-o", out, cwd=logs, check=False)
    assert p.returncode == 1 and p.stderr.decode() == (
        "git-mlv: error: workspace: cannot plot m.json: not a list of records (rows: a CSV or TSV "
        "with a header, or a JSON or YAML list of mappings)\n")
    # the default: every tag, then the work tree (train.json differs there)
    p = mlv("plots", "--file", "logs/train.json", "-o", out, cwd=logs)
    assert "over 3 revision(s)" in p.stdout.decode() and p.stderr == b""
    # absent at one revision: a warning, the others drawn
    p = mlv("plots", "--file", "logs/train.json", "v1", "workspace", "-o", out, cwd=logs)
    assert "over 2 revision(s)" in p.stdout.decode()
    write(logs / "logs" / "train.json", b"[")
    p = mlv("plots", "--file", "logs/train.json", "v1", "workspace", "-o", out, cwd=logs)
    assert p.stderr.decode().startswith("git-mlv: warning: workspace: cannot parse logs/train.json")
    assert "over 1 revision(s)" in p.stdout.decode()
