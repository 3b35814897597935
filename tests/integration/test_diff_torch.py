"""git diff of PyTorch checkpoints (torch.save's zip format) through the real git, on files the
real PyTorch wrote (tests/data/torch/make.py): tensors, values, statistics and digests, so that a
fine-tune of one layer shows that layer; and the pickle inside is never run.

Before: a .pt was summarised as bytes (one sha256 line), whatever changed."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import zipfile
from pathlib import Path

from git_mlv.inspect import summarize
from tests.helpers import commit_all, git, out

DATA = Path(__file__).resolve().parent.parent / "data" / "torch"


def _changed(diff: str) -> list[str]:
    return [x for x in diff.splitlines() if x[:1] in "+-" and not x.startswith(("+++", "---"))]


def test_a_changed_layer_shows_in_git_diff(repo: Path) -> None:
    (repo / "data").mkdir()
    shutil.copy(DATA / "v1.pt", repo / "data" / "model.pt")
    commit_all(repo, "v1")
    shutil.copy(DATA / "v2.pt", repo / "data" / "model.pt")
    d = out(git("diff", "-U100000", cwd=repo))  # the whole summaries
    assert " format torch\n" in d and " tensor 2.weight float32 [2, 4]\n" in d, d
    changed = _changed(d)
    assert any(x.startswith("-2.weight mean ") for x in changed) and \
        any(x.startswith("+2.weight sha256 ") for x in changed), changed
    assert not any(x[1:].startswith(("0.weight", "0.bias", "2.bias")) for x in changed), changed


def test_a_checkpoint_lists_tensors_values_and_odd_dtypes() -> None:
    lines = summarize(str(DATA / "checkpoint.pt")).lines()
    assert "tensors 6" in lines and "tensor model.2.weight float32 [2, 4]" in lines
    assert "value epoch 3" in lines and 'value note "run 7"' in lines
    assert "value optimizer.param_groups[0].lr 0.001" in lines
    assert "tensor bf bfloat16 [4]" in lines and "bf max 3.0" in lines and "bf mean 1.5" in lines
    # half = ones(2, 2)[:, 1]: a strided view of the storage, two elements
    assert "tensor half float16 [2]" in lines and "half mean 1" in lines


def test_the_old_format_and_a_damaged_archive_are_notes(tmp_path: Path) -> None:
    legacy = summarize(str(DATA / "legacy.pt")).lines()
    assert legacy[0] == "format binary" and any(
        x.startswith("note not a readable torch file: not a zip archive") for x in legacy), legacy
    cut = tmp_path / "cut.pt"
    raw = (DATA / "v1.pt").read_bytes()
    cut.write_bytes(raw[: len(raw) // 2])
    assert any(x.startswith("note not a readable torch file") for x in summarize(str(cut)).lines())


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def test_the_pickle_inside_is_never_run(tmp_path: Path, repo: Path) -> None:
    """A checkpoint whose data.pkl would run a shell command when unpickled (what torch.load did by
    default before 2.6): summarising it, here and through git diff, runs nothing."""
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil/data.pkl", pickle.dumps({"epoch": 1, "x": _Evil(str(marker))}, protocol=2))
        z.writestr("evil/version", "3\n")
    (repo / "data").mkdir()
    (repo / "data" / "evil.pt").write_bytes(buf.getvalue())
    lines = summarize(str(repo / "data" / "evil.pt")).lines()
    assert "value epoch 1" in lines and not marker.exists()
    commit_all(repo, "evil")
    (repo / "data" / "evil.pt").write_bytes(buf.getvalue() + b"")
    git("log", "-p", cwd=repo)
    git("show", "HEAD", cwd=repo)
    assert not marker.exists()
