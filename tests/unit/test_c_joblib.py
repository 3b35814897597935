"""joblib's files (scikit-learn's recommended way to save a model), summarised without running them
(inspect/joblibfile.py). The files under tests/data/c_joblib were written by joblib itself (README)."""

from __future__ import annotations

import os
import pickle
import sys
import types
import zlib
from pathlib import Path

import numpy as np

from git_mlv.inspect import summarize

DATA = Path(__file__).parent.parent / "data" / "c_joblib"


def test_joblib_models_plain_and_compressed() -> None:
    """joblib.dump writes each array's bytes after a wrapper object, outside the pickle's opcodes;
    Python's unpickler stopped on the first one ("invalid load key"), so a model.joblib (and a
    joblib file named .pkl) was a bare sha256 or a note. Now its estimator, hyperparameters and
    learned arrays read as a pickle's do, also when joblib compressed the file (zlib, gzip)."""
    plain = summarize(str(DATA / "logreg.joblib")).lines()
    assert plain[0] == "format pickle"
    for want in ("object . sklearn.linear_model._logistic.LogisticRegression", "value C 0.5",
                 "array coef_ float64 [1, 3]", "coef_ max 1.602353898998382",
                 "intercept_ min -0.5370112065806503", "array classes_ int64 [2]"):
        assert want in plain, want
    body = [x for x in plain if not x.startswith(("size", "sha256 "))]
    for packed in ("zlib", "gzip"):
        lines = summarize(str(DATA / f"logreg_{packed}.joblib")).lines()
        assert [x for x in lines if not x.startswith(("size", "sha256 "))] == \
            body[:2] + [f"compression {packed}"] + body[2:]
    state = summarize(str(DATA / "state.pkl")).lines()  # a joblib file under a pickle's name
    for want in ("value lr 0.01", "array w float32 [2, 3]", "w max 5.0", "array names object [2]",
                 'value names[0] "a"', "array empty float64 [0, 2]"):
        assert want in state, want


def test_object_arrays_show_their_items(tmp_path: Path) -> None:
    """An array of Python objects (scikit-learn's feature_names_in_, fitted on a DataFrame) was
    left out of a pickle's summary altogether; it is listed, and its items read as values."""
    lines = summarize_lines(tmp_path, "m.pkl", pickle.dumps({"feature_names_in_": np.array(
        ["age", "income"], dtype=object), "n": 2}))
    assert "array feature_names_in_ object [2]" in lines
    assert 'value feature_names_in_[1] "income"' in lines


def test_hostile_or_damaged_joblib_files_run_nothing(tmp_path: Path) -> None:
    """The joblib reader is Python's pure-Python unpickler with the safe reader's rules: a pickle
    that would run a command runs nothing, and a file that says it holds more than it does is a
    note, compressed (a small file expanding past the limit) or not."""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    evil = pickle.dumps({"x": Evil(), "lr": 0.5}) + b"\x01\xff"  # bytes after: the joblib reader runs
    (tmp_path / "e.joblib").write_bytes(evil)
    (tmp_path / "z.joblib").write_bytes(zlib.compress(pickle.dumps({"x": Evil(), "lr": 0.5})))
    for name in ("e.joblib", "z.joblib"):
        lines = summarize(str(tmp_path / name)).lines()
        assert not marker.exists()
        assert ("value lr 0.5" in lines) == (name == "z.joblib"), lines
    real = (DATA / "logreg.joblib").read_bytes()
    (tmp_path / "cut.joblib").write_bytes(real[:-40])
    lines = summarize(str(tmp_path / "cut.joblib")).lines()
    assert lines[0] == "format binary" and any(x.startswith("note not a readable pickle") for x in lines)
    # a wrapper saying 10^9 float64 follow, in 60 bytes of zlib: a note, nothing allocated
    module = types.ModuleType("joblib.numpy_pickle")

    class NumpyArrayWrapper:
        pass

    NumpyArrayWrapper.__module__ = module.__name__
    NumpyArrayWrapper.__qualname__ = "NumpyArrayWrapper"
    module.NumpyArrayWrapper = NumpyArrayWrapper  # type: ignore[attr-defined]
    wrapper = NumpyArrayWrapper()
    wrapper.__dict__.update(subclass=None, shape=(10**9,), order="C", dtype=np.dtype("f8"),
                            allow_mmap=False, numpy_array_alignment_bytes=16)
    fakes = {"joblib": types.ModuleType("joblib"), module.__name__: module}
    saved = {name: sys.modules.get(name) for name in fakes}
    sys.modules.update(fakes)
    try:
        bomb = pickle.dumps({"w": wrapper}, protocol=4) + b"\x00" + bytes(1000)
    finally:
        for name, was in saved.items():
            if was is None:
                del sys.modules[name]
            else:
                sys.modules[name] = was
    for name, data in (("bomb.joblib", zlib.compress(bomb)), ("bomb.pkl", bomb)):
        (tmp_path / name).write_bytes(data)
        lines = summarize(str(tmp_path / name)).lines()
        assert lines[0] == "format binary", lines
        assert any("more bytes than the file holds" in x for x in lines), lines


def summarize_lines(tmp_path: Path, name: str, data: bytes) -> list[str]:
    """The summary of ``data`` written to ``tmp_path / name``."""
    (tmp_path / name).write_bytes(data)
    return summarize(str(tmp_path / name)).lines()


def test_a_large_compressed_file_reads_whole(tmp_path: Path) -> None:
    """zlib's output is taken in pieces no larger than asked for: the input it held back was lost
    when the next piece read new input, and a compressed model of a few MB was the note
    "KeyError: 180". The compressed file now reads as its uncompressed self."""
    values = {"w": np.random.default_rng(1).standard_normal((300, 1000)), "b": np.arange(70000)}
    plain = pickle.dumps(values, protocol=4)
    (tmp_path / "plain.pkl").write_bytes(plain)
    (tmp_path / "packed.joblib").write_bytes(zlib.compress(plain, 3))
    want = [x for x in summarize(str(tmp_path / "plain.pkl")).lines()
            if not x.startswith(("size", "sha256 "))]
    got = [x for x in summarize(str(tmp_path / "packed.joblib")).lines()
           if not x.startswith(("size", "sha256 ", "compression"))]
    assert got == want and "b max 69999" in got
