"""Statistics of a wide table were folded in one pyarrow call a column a parser block: a 27 MB CSV
of 2,000 columns (90 rows a 512 KiB block) took 112,000 calls and 4.5 s of `git mlv textconv`
(5.4 s wall; 2.1 s now). Blocks are now held until 8 MiB of them are here and folded in as one
chunked column each; the summary is the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.inspect import stats, summarize

COLS, ROWS = 300, 3_000


def test_a_wide_table_costs_calls_per_megabytes_not_per_block(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wide.csv"
    lines = [",".join(f"c{i}" for i in range(COLS))]
    lines += [",".join(str((r * 7 + i) % 1000) for i in range(COLS)) for r in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")  # 3.4 MB: ~7 blocks of 512 KiB
    calls = 0
    update = stats.ColumnStats.update

    def counted(self: stats.ColumnStats, col: object) -> None:
        nonlocal calls
        calls += 1
        update(self, col)  # type: ignore[arg-type]

    monkeypatch.setattr(stats.ColumnStats, "update", counted)
    facts = summarize(str(path)).lines()
    assert calls == COLS, calls  # one flush: 2,100 calls before (one a block)
    assert f"rows {ROWS}" in facts and f"columns {COLS}" in facts
    assert "c0 min 0" in facts and "c0 max 999" in facts and "c299 mean 499.5" in facts
