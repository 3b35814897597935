"""The scan of a big JSON document (inspect/jsondoc.py) gives the same structure lines as parsing it
whole, whatever the block size: escaped quotes, runs of backslashes and brackets inside strings
that straddle a block's end; a damaged document is a NotThisFormat, never another error."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from git_mlv.inspect import jsondoc
from git_mlv.inspect.fallback import NotThisFormat

TRICKY = ['q"\\"\\\\', "\\\\\\", "", "{[,:]}", "é\u2028", 'end\\', '"', "a\\\"b"]


def _value(rng: random.Random, depth: int) -> object:
    r = rng.random()
    if depth > 3 or r < 0.4:
        return rng.choice([1, -2.5e10, True, None, *TRICKY])
    if r < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {rng.choice(TRICKY) + str(i): _value(rng, depth + 1) for i in range(rng.randrange(5))}


def _scan(path: Path) -> list[str]:
    with open(path, "rb", buffering=0) as f:
        return jsondoc._scan(f, path.stat().st_size)


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64])
def test_the_scan_agrees_with_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(jsondoc, "BLOCK", block)
    rng = random.Random(block)
    f = tmp_path / "d.json"
    for _ in range(150):
        doc = {rng.choice(TRICKY) + str(i): _value(rng, 1) for i in range(rng.randrange(6))} \
            if rng.random() < 0.7 else [_value(rng, 1) for _ in range(rng.randrange(6))]
        text = json.dumps(doc, indent=rng.choice([None, 1]), ensure_ascii=rng.random() < 0.5)
        f.write_bytes(("\ufeff" if rng.random() < 0.1 else "").encode() + text.encode())
        assert _scan(f) == jsondoc._structure_of(doc), text  # type: ignore[arg-type]


def test_a_damaged_document_is_not_this_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsondoc, "BLOCK", 3)
    rng = random.Random(0)
    f = tmp_path / "d.json"
    for _ in range(300):
        data = bytearray(json.dumps({f"k{i}": _value(rng, 1) for i in range(4)}).encode())
        if rng.random() < 0.5:
            del data[rng.randrange(1, len(data)):]
        else:
            data[rng.randrange(len(data))] = rng.choice(b'"\\{}[],: x')
        f.write_bytes(bytes(data))
        try:
            _scan(f)
        except (NotThisFormat, jsondoc._Lines):  # _Lines: a second value at the top, read as JSON Lines
            pass
    for bad in (b"", b"   ", b"42", b'"text"', b"]", b"{}}", b'{"a": "no end}'):
        f.write_bytes(bad)
        with pytest.raises(NotThisFormat):
            _scan(f)


@pytest.mark.parametrize("small", [4 << 20, 0])
def test_json_lines_under_a_json_name_are_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  small: int) -> None:
    monkeypatch.setattr(jsondoc, "SMALL", small)  # parsed whole, then scanned
    f = tmp_path / "train.json"
    f.write_text('{"text": "é", "label": 1}\n{"text": "b", "label": 0}\n')
    lines = jsondoc.summarize(str(f)).lines()
    assert lines[0] == "format jsonl" and "rows 2" in lines and "column label int64" in lines, lines


def test_members_past_the_listed_ones_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A root object of many members (a vocabulary, an id -> record map): the first MAX_MEMBERS are
    listed, the rest counted in bulk (their keys and types not read: a 14 MB map of 400,000 keys
    took 5.3 s, 1.0 s now), the same lines as the parse."""
    doc = {f"k{i}": [i, {"a": [i]}, 1, 2, 3, 4, 5, 6] if i % 2 else i for i in range(3000)}
    f = tmp_path / "d.json"
    f.write_text(json.dumps(doc))
    read: list[int] = []
    real = jsondoc._key_text
    monkeypatch.setattr(jsondoc, "_key_text", lambda *a: read.append(1) or real(*a))
    for listed, last in ((5, "structure .k4 number"), (6, "structure .k5 array 8")):
        monkeypatch.setattr(jsondoc, "MAX_MEMBERS", listed)
        for block in (7, 20, 1000, 1 << 20):  # the last listed member's array across blocks too
            monkeypatch.setattr(jsondoc, "BLOCK", block)
            got = _scan(f)
            assert got == jsondoc._structure_of(doc)
            assert got[-2:] == [last, f"members not shown {3000 - listed}"]
            assert len(read) == listed, block  # the keys listed, not every key
            read.clear()
