"""git diff of HDF5 files (Keras .h5 models, scientific arrays) through the real git: groups,
datasets, attributes and per-dataset statistics and digests, so that a change to one layer shows
that layer, and a damaged file is a note, not a failed diff.

Before: an .h5 (README's own `git mlv track "*.h5"`) was summarised as bytes, one sha256 line."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from tests.helpers import commit_all, git, out


def _model(path: Path, kernel_seed: int, version: str = "2.15.0", extra: int = 0) -> None:
    rng = np.random.default_rng(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version
        f.attrs["backend"] = b"tensorflow"
        w = f.create_group("model_weights")
        w.attrs["layer_names"] = np.array([b"dense", b"head"])
        w.create_dataset("dense/kernel", data=np.random.default_rng(kernel_seed).normal(size=(64, 32))
                         .astype("f4"), chunks=(16, 32), compression="gzip")
        w.create_dataset("dense/bias", data=np.zeros(32, "f4"))
        w.create_dataset("head/kernel", data=rng.normal(size=(32, 10)).astype("f4"))
        f.create_dataset("classes", data=np.array([b"cat", b"dog"]), dtype=h5py.string_dtype())
        for i in range(extra):
            f.create_dataset(f"many/d{i:04d}", data=np.arange(2))


def test_a_changed_layer_and_attribute_show_in_git_diff(repo: Path) -> None:
    model = repo / "data" / "model.h5"
    _model(model, kernel_seed=1)
    commit_all(repo, "v1")
    _model(model, kernel_seed=2, version="2.16.1")
    d = out(git("diff", cwd=repo))
    assert " format hdf5\n" in d
    assert " dataset /model_weights/dense/kernel float32 [64, 32] chunked gzip\n" in d
    assert '-attr / keras_version "2.15.0"\n+attr / keras_version "2.16.1"\n' in d, d
    assert ' attr /model_weights layer_names ["dense", "head"]\n' in d
    changed = [x for x in d.splitlines() if x[:1] in "+-" and not x.startswith(("+++", "---"))]
    assert any(x.startswith("-/model_weights/dense/kernel sha256 ") for x in changed), d
    assert any(x.startswith("+/model_weights/dense/kernel mean ") for x in changed), d
    # the layers that did not change are not in the diff's changed lines
    assert not any("head/kernel" in x or "dense/bias" in x or "/classes" in x for x in changed), changed
    commit_all(repo, "v2")
    log = out(git("log", "-p", "-1", "--", "data/model.h5", cwd=repo))
    assert "+attr / keras_version" in log


def test_many_members_are_counted_and_a_damaged_file_is_a_note(repo: Path) -> None:
    _model(repo / "data" / "big.h5", kernel_seed=1, extra=1100)
    good = repo / "data" / "cut.h5"
    _model(good, kernel_seed=1)
    commit_all(repo, "v1")
    raw = good.read_bytes()
    good.write_bytes(raw[: len(raw) // 2])  # a copy cut short
    _model(repo / "data" / "big.h5", kernel_seed=3, extra=1100)
    d = out(git("diff", "-U100000", cwd=repo))  # the whole summaries
    assert " members not shown 108\n" in d and " datasets 1104\n" in d, d
    assert "+note not a readable hdf5 file: " in d, d
    assert "+format hdf5" not in d.split("cut.h5", 1)[1]  # the cut file is read as bytes, with the note
