"""Which bytes of remote packs one fetch reads: wanted entries grouped into ranges, and ranges
into thread-pool tasks (no I/O here; remotes/fetch.py and remotes/collect.py read them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..core.pack import Entry

# Ranges bridge gaps of up to ``Remote.range_gap`` unneeded bytes (less than another request
# costs); they stop growing at MAX_RANGE so several run in parallel and memory stays bounded.
MAX_RANGE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Range:
    """Bytes ``start``..``end`` of remote pack ``pack``, holding ``entries`` (in offset order)."""

    pack: str
    start: int
    end: int
    entries: tuple[Entry, ...]
    held: int = 0  # bytes the reader keeps beyond the range's own until it is consumed (``coalesce``)


def coalesce(found: Iterable[tuple[str, Entry]], *, gap: int, max_range: int = MAX_RANGE,
             overlaps: list[tuple[str, Entry, Entry]] | None = None,
             held: Callable[[Entry], int] | None = None) -> list[Range]:
    """Group entries by remote pack into byte ranges of at most ``max_range``, bridging gaps of at
    most ``gap`` bytes (the remote's ``range_gap``).

    ``held(entry)``: bytes the reader keeps for an entry beyond its stored ones (a fetch keeps the
    decompressed bytes of the chunks it hashes files with, up to 4x the stored bytes of a table):
    they count against ``max_range`` too, so a range bounds the memory it costs, not only its size.

    Two records whose bytes overlap cannot both be right: the second goes into a range of its own
    (its header check then decides) and is listed in ``overlaps``, never silently dropped.
    """
    by_pack: dict[str, list[Entry]] = {}
    for pack, e in found:
        by_pack.setdefault(pack, []).append(e)
    ranges: list[Range] = []
    for pack, entries in by_pack.items():
        entries.sort(key=lambda e: (e.offset, e.end))
        cur: list[Entry] = []
        kept = 0  # held bytes of cur
        for e in entries:
            extra = held(e) if held is not None else 0
            if cur and e.offset < cur[-1].end:
                if overlaps is not None:
                    overlaps.append((pack, cur[-1], e))
                ranges.append(Range(pack, e.offset, e.end, (e,), extra))
                continue
            if cur and (e.offset - cur[-1].end > gap or e.end - cur[0].offset + kept + extra > max_range):
                ranges.append(Range(pack, cur[0].offset, cur[-1].end, tuple(cur), kept))
                cur, kept = [], 0
            cur.append(e)
            kept += extra
        if cur:
            ranges.append(Range(pack, cur[0].offset, cur[-1].end, tuple(cur), kept))
    return ranges


def in_tasks(ranges: list[Range], max_bytes: int, max_count: int = 64) -> list[list[Range]]:
    """``ranges`` in order, in runs of at most ``max_bytes`` (one range more if it is bigger) and
    ``max_count`` ranges: one thread-pool task each. With a small ``range_gap`` a history's clone
    reads a range per file, and a task per range cost ~1 ms of hand-over on a loaded machine
    (cProfile, 1,028 ranges of a 485-push history); memory in flight stays one range's bound."""
    tasks: list[list[Range]] = []
    size = 0
    for r in ranges:
        cost = r.end - r.start + r.held
        if tasks and len(tasks[-1]) < max_count and size + cost <= max_bytes:
            tasks[-1].append(r)
            size += cost
        else:
            tasks.append([r])
            size = cost
    return tasks
