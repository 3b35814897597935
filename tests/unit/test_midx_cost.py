"""Writing a midx hands back each source table's pages once, after its rows are copied: the cost
follows the packs consolidated (a consolidation of 921 packs had made 850,000 madvise calls, 6.8 s
of a 31 s fetch, when every copied source handed back the pages of every table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.core import index as idx
from git_mlv.core import midx as mx
from git_mlv.core.consolidate import write_midx
from git_mlv.core.pool import Pool
from tests.unit.test_midx import SMALL, make_pool
from tests.unit.test_pool import read_back


def test_each_source_is_handed_back_once_after_its_rows(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files = make_pool(tmp_path, n=40)
    dropped: list[str] = []
    real = idx.KeyTable.drop_pages

    def counting(self: idx.KeyTable) -> None:  # counts, then does the real work
        dropped.append(getattr(self, "path", "?"))
        real(self)

    monkeypatch.setattr(idx.KeyTable, "drop_pages", counting)
    with Pool(str(tmp_path), SMALL) as pool:
        packs = len(pool.packs())
        assert write_midx(pool) > 0 and packs >= 40
        # one call per pack's index, each a different table: packs x packs before
        assert len(dropped) == packs == len(set(dropped)), (len(dropped), packs)
    with Pool(str(tmp_path), SMALL) as pool:  # the midx answers for every file
        assert pool.packs() and pool.packset.midx is not None
        for oid, want in files.items():
            assert read_back(pool, oid) == want


def test_encode_names_the_source_it_copied(tmp_path: Path) -> None:
    make_pool(tmp_path, n=5)
    with Pool(str(tmp_path), SMALL) as pool:
        sources = [mx.source_of(pool.index_of(p), p) for p in pool.packs()]
        seen: list[int] = []
        data = mx.encode(sources, copied=seen.append)
    assert seen == list(range(5))
    mx.check_bytes(data, "test")
