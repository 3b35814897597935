"""A text column of long distinct values (the documents of a text corpus) kept every distinct value
whole in the summary's counts, up to 10,000 of them: a 200 MB JSON Lines corpus of 5,000 documents
peaked at 354 MB RSS in `git mlv textconv` (149 MB now), and a corpus of larger documents holds
all of them. Long values are counted by their first characters and a digest; what the summary
says is unchanged."""

from __future__ import annotations

import random
import tracemalloc

import pyarrow as pa

from git_mlv.inspect.stats import ColumnStats


def _docs(n: int, size: int) -> list[str]:
    rng = random.Random(0)
    return [f"doc {i} " + "".join(rng.choice("abcdef ") for _ in range(size)) for i in range(n)]


def test_long_values_are_not_kept_whole() -> None:
    docs = _docs(400, 20_000)  # 8 MB of text
    docs += docs[:3]  # three documents appear twice: the top values
    batches = [pa.array(docs[i:i + 10]) for i in range(0, len(docs), 10)]
    ColumnStats("warm", pa.string()).update(batches[0])  # pyarrow's first call allocates for itself
    st = ColumnStats("text", pa.string())
    tracemalloc.start()
    try:
        for b in batches:
            st.update(b)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak  # 8.2 MB before: every document kept
    facts = st.facts()
    assert facts[:2] == ["text nulls 0", "text distinct 400"]
    assert facts[2:] == [f'text top "{d[:60]}..." 2' for d in sorted(docs[:3])]


def test_short_and_long_values_never_meet() -> None:
    long = "x" * 100
    st = ColumnStats("t", pa.string())
    st.update(pa.array([long, long[:64], long[:65], "y", long]))
    cut = "x" * 60 + "..."
    assert st.facts() == ["t nulls 0", "t distinct 4", f't top "{cut}" 2', f't top "{cut}" 1',
                          f't top "{cut}" 1']
