"""safetensors files that lie about their tensors, and names that are not one word (real git).
A tensor whose shape and dtype do not match its bytes (a file cut and patched by hand, a writer's
bug) was summarised as if read: statistics of other bytes, a shape of [3] over 8 bytes of F32, a
shape of [-1] counted as -1 parameters. The reference implementation refuses such a file; the
summary now says why, as for any unreadable file. A tensor or metadata name with a space or a
newline (JSON allows any) was written raw: a newline split one fact into two lines."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tests.helpers import commit_all, git, out, write


def _safetensors(tensors: dict[str, tuple[str, list[int], bytes]], meta: dict[str, str] | None = None
                 ) -> bytes:
    header: dict = {"__metadata__": meta} if meta else {}
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def test_tensors_that_do_not_fit_their_bytes_are_named(repo: Path) -> None:
    two = struct.pack("<2f", 1.0, 2.0)
    write(repo / "data" / "m.safetensors", _safetensors({"w": ("F32", [2], two)}))
    write(repo / "data" / "n.safetensors", _safetensors({"w": ("F32", [2], two)}))
    write(repo / "data" / "q.safetensors", _safetensors({"w": ("F32", [2], two)}))
    commit_all(repo, "v1")
    write(repo / "data" / "m.safetensors", _safetensors({"w": ("F32", [3], two)}))
    write(repo / "data" / "n.safetensors", _safetensors({"w": ("F32", [-1], two)}))
    write(repo / "data" / "q.safetensors", _safetensors({"lm head\nw": ("F32", [2], two)},
                                                         {"base model": "x"}))
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "+note not a readable safetensors file: tensor 'w' holds 8 bytes, its shape and dtype F32 [3] " \
           "say 12\n" in d
    assert "+note not a readable safetensors file: tensor 'w' has a negative dimension [-1]\n" in d
    assert "parameters -1" not in d and "+tensor w F32 [3]" not in d
    assert '+tensor "lm head\\nw" F32 [2]\n' in d and '+"lm head\\nw" max 2.0\n' in d
    assert '+metadata "base model" x\n' in d


def test_a_damaged_npz_is_a_note_not_a_failed_diff(repo: Path) -> None:
    # one flipped byte in an array's data: zipfile's "Bad CRC-32" escaped textconv as an internal
    # error (exit 70), and git diff stopped with "unable to read files to diff"
    import io
    import zipfile

    import numpy as np

    def npz(**arrays: object) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    good = npz(a=np.arange(1000.0))
    write(repo / "data" / "w.npz", good)
    write(repo / "data" / "x.npz", npz(**{"my array": np.arange(3)}))
    commit_all(repo, "v1")
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    write(repo / "data" / "w.npz", bytes(bad))
    buf = io.BytesIO(npz(**{"my array": np.arange(4)}))
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("README.txt", "what the arrays are")
    write(repo / "data" / "x.npz", buf.getvalue())
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "+note not a readable npz file: a.npy: Bad CRC-32 for file 'a.npy'\n" in d
    assert '+array "my array" int64 [4]\n' in d and '+"my array" max 3\n' in d
    assert "+member README.txt crc32 " in d
