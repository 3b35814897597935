"""TFRecord files summarised without TensorFlow (inspect/tfrecord.py); the files under
tests/data/c_tfrecord were written by TensorFlow's own TFRecordWriter (README)."""

from __future__ import annotations

from pathlib import Path

from git_mlv.inspect import summarize

DATA = Path(__file__).parent.parent / "data" / "c_tfrecord"


def _body(path: Path) -> list[str]:
    return [x for x in summarize(str(path)).lines() if not x.startswith(("size ", "sha256 "))]


def test_tfrecords_count_records_and_name_features(tmp_path: Path) -> None:
    """A .tfrecord was a bare sha256: records added or dropped, or a feature renamed, read as one
    changed hash. Now its records are counted and sized, and the first Example's features named."""
    assert _body(DATA / "train.tfrecord") == [
        "format tfrecord", "records 5", "record bytes min 73", "record bytes max 77",
        "record bytes total 375", "feature bbox float", "feature image/encoded bytes", "feature label int64"]
    assert _body(DATA / "raw.tfrecords") == [
        "format tfrecord", "records 3", "record bytes min 0", "record bytes max 300",
        "record bytes total 305"]
    (tmp_path / "empty.tfrec").write_bytes(b"")
    assert _body(tmp_path / "empty.tfrec") == ["format tfrecord", "records 0"]


def test_a_damaged_tfrecord_is_a_note(tmp_path: Path) -> None:
    """A length that does not match its CRC (a flipped bit, or a file that is no TFRecord) or a record
    running past the end is a note, not a walk through garbage."""
    real = (DATA / "train.tfrecord").read_bytes()
    flipped = bytearray(real)
    flipped[0] ^= 0x01
    cases = {"flipped.tfrecord": bytes(flipped), "cut.tfrecord": real[:-10],
             "text.tfrecord": b"just some text, not records\n"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        lines = summarize(str(tmp_path / name)).lines()
        assert lines[0] == "format binary", (name, lines)
        assert any(x.startswith("note not a readable tfrecord file") for x in lines), (name, lines)
