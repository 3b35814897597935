"""JSON Lines whose fields change along the file, as event logs do: a field that first appears
after the first block (512 KiB), a column of nulls that gets values, integers that turn into
decimals. pyarrow's streaming reader fixes the schema at its first block, so the summary said
"not a readable jsonl file" and `git mlv diff` could not count or match rows. The file is now
read with every field's type (the blocks' schemas unified)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write

N = 30_000  # ~1.3 MB of lines: the first block holds none of the late changes


def _log(extra: bool) -> bytes:
    rows = [{"id": i, "v": None, "n": i, "t": "x" * 20} for i in range(N)]
    if extra:
        rows.append({"id": N, "v": 1.5, "n": 2.5, "t": "y", "late": True})
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def test_fields_that_change_after_the_first_block(repo: Path) -> None:
    write(repo / "data" / "ev.jsonl", _log(False))
    write(repo / "data" / "ev.jsonl.gz", gzip.compress(_log(False), mtime=0))
    commit_all(repo, "v1")
    write(repo / "data" / "ev.jsonl", _log(True))
    write(repo / "data" / "ev.jsonl.gz", gzip.compress(_log(True), mtime=0))
    for name in ("ev.jsonl", "ev.jsonl.gz"):
        text = out(mlv("textconv", f"data/{name}", cwd=repo))
        assert "note" not in text and f"\nrows {N + 1}\n" in text, text
        assert "\ncolumn v double\ncolumn n double\ncolumn t string\ncolumn late bool\n" in text
        assert "\nlate true 1\n" in text and "\nn max 29999.0\n" in text
    commit_all(repo, "v2")
    # both sides read from the pool (streamed), keyed
    r = json.loads(out(mlv("diff", "HEAD~1", "HEAD", "--key", "id", "--json", cwd=repo)))
    for f in r["files"]:
        assert f["table"]["error"] is None and (f["table"]["old_rows"], f["table"]["new_rows"]) == (N, N + 1)
        assert f["table"]["added_columns"] == [["late", "bool"]]
        assert f["table"]["retyped_columns"] == [["n", "int64", "double"]]
        rows = f["rows"]
        assert (rows["added"], rows["removed"], rows["changed"], rows["unchanged"]) == (1, 0, 0, N)
    show = out(git("show", "HEAD", "--", "data/ev.jsonl", cwd=repo))
    assert f"\n-rows {N}\n" in show and f"\n+rows {N + 1}\n" in show and "note" not in show


def test_a_field_of_numbers_and_text_is_still_a_note(repo: Path) -> None:
    write(repo / "data" / "bad.jsonl", b'{"id": 1, "v": 1}\n{"id": 2, "v": "two"}\n')
    text = out(mlv("textconv", "data/bad.jsonl", cwd=repo))
    assert text.startswith("format binary\n") and "\nnote not a readable jsonl file: " in text
