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
