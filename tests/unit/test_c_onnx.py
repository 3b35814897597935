"""ONNX models summarised from the protobuf's wire format (inspect/onnxfile.py); the files under
tests/data/c_onnx were written by the onnx package itself (README)."""

from __future__ import annotations

from pathlib import Path

from git_mlv.inspect import summarize

DATA = Path(__file__).parent.parent / "data" / "c_onnx"


def _body(path: Path) -> list[str]:
    return [x for x in summarize(str(path)).lines() if not x.startswith(("size ", "sha256 "))]


def test_an_onnx_model_reads_like_a_model() -> None:
    """A model.onnx was a bare sha256 in `git diff`: a new opset, an input resized, a layer added or
    retrained showed as one changed hash. Its header, graph and tensors are facts now, the values
    as onnx.numpy_helper reads them."""
    assert _body(DATA / "mlp.onnx") == [
        "format onnx", "ir version 14", "producer pytorch 2.5.0", "opset ai.onnx 17", "graph tiny-mlp",
        "metadata author c", "input x float [batch, 4]", "output y float [1, ?]", "nodes 3", "op Gemm 1",
        "op Relu 1", "op Reshape 1", "initializers 3", "parameters 17", "tensor fc.weight float [3, 4]",
        "tensor fc.bias float [3]", "tensor shape int64 [2]",
        "fc.weight min 0.0", "fc.weight max 1.1", "fc.weight mean 0.55", "fc.weight std 0.34520525",
        "fc.weight sha256 3d172884c0f67c5c",
        "fc.bias min -1.0", "fc.bias max 2.0", "fc.bias mean 0.5", "fc.bias std 1.2247449",
        "fc.bias sha256 0846fa44e8b51361",
        "shape min -1", "shape max 1", "shape mean 0", "shape std 1", "shape sha256 fb68a69a65c3bd62"]
    ext = _body(DATA / "mlp_ext.onnx")  # weights in a file beside it: another file to git
    assert "fc.weight external mlp_ext.onnx.data" in ext and "fc.weight min 0.0" not in ext
    typed = _body(DATA / "typed.onnx")
    for want in ("opset ai.onnx 18", "opset ai.onnx.ml 3", "input seq_in sequence(float [?, 3])",
                 "output map_out map(string, int64 [])", "w_typed mean 0.9375", "h16 max 3.0"):
        assert want in typed, want


def test_what_is_not_an_onnx_model_is_a_note(tmp_path: Path) -> None:
    """A cut, empty or foreign .onnx is bytes with a note, never a failed diff."""
    real = (DATA / "mlp.onnx").read_bytes()
    for name, data in (("cut.onnx", real[:200]), ("empty.onnx", b""), ("text.onnx", b"not a model\n"),
                       ("loop.onnx", b"\x3a\xff\xff\xff\xff\x0f")):
        (tmp_path / name).write_bytes(data)
        lines = summarize(str(tmp_path / name)).lines()
        assert lines[0] == "format binary", (name, lines)
        assert any(x.startswith("note not a readable onnx file") for x in lines), (name, lines)
