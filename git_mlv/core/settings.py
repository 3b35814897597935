"""Tunable parameters of the pool, with the defaults we measured (docs/formats.md, bench/RESULTS.md)."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import UsageError
from .record import Record

KiB = 1024
MiB = 1024 * KiB


class Settings(Record):
    """Chunking, compression and packing parameters.

    FastCDC's mean chunk is ``chunk_avg + chunk_min`` (cut-point skipping): 48 KiB + 16 KiB gives the
    ~64 KiB mean DESIGN.md asks for; measured 1.6 GB/s on this machine (shared/notes).
    zstd level 1 is the default: on float32 weights it is 4x faster than level 3 for a 2 % worse ratio,
    on numeric CSV 4x faster for a better one (shared/notes/measured-here.md).
    """

    __slots__ = ("chunk_avg", "chunk_min", "chunk_max", "compression_level", "pack_size", "threads",
                 "auto_packs")
    chunk_avg: int
    chunk_min: int
    chunk_max: int
    compression_level: int
    pack_size: int
    threads: int
    auto_packs: int

    def __init__(self, chunk_avg: int = 48 * KiB, chunk_min: int = 16 * KiB, chunk_max: int = 256 * KiB,
                 compression_level: int = 1, pack_size: int = 64 * MiB, threads: int = 2,
                 auto_packs: int = 8) -> None:
        # auto_packs: consolidate when this many packs are not covered by the midx (0: never). 8
        # keeps a pool of 1,000 small commits at <= 13 packs in a simulation (formats.md#consolidation)
        for name, value in zip(self.__slots__, (chunk_avg, chunk_min, chunk_max, compression_level,
                                                pack_size, threads, auto_packs)):
            object.__setattr__(self, name, value)

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> Settings:
        """Settings from ``mlv.*`` keys of git config (lower-cased names, as ``git config -l`` prints)."""
        d = cls()
        s = cls(
            chunk_avg=_int(config, "mlv.chunkAvg", d.chunk_avg),
            chunk_min=_int(config, "mlv.chunkMin", d.chunk_min),
            chunk_max=_int(config, "mlv.chunkMax", d.chunk_max),
            compression_level=_int(config, "mlv.compressionLevel", d.compression_level),
            pack_size=_int(config, "mlv.packSize", d.pack_size),
            threads=_int(config, "mlv.threads", d.threads),
            auto_packs=_int(config, "mlv.autoPacks", d.auto_packs),
        )
        s.check()
        return s

    def check(self) -> None:
        """A UsageError naming the setting a user set out of range. Before, ``mlv.chunkAvg 0`` or
        ``mlv.compressionLevel 99`` failed every `git add` with "internal error: ValueError:
        min_size 0 is out of range" (pyfastcdc names every size min_size) or "level must be less
        than 23"; ``mlv.packSize 0`` wrote a pack per chunk."""
        for name, value, low, high in (("chunkMin", self.chunk_min, 64, 1 * MiB),
                                       ("chunkAvg", self.chunk_avg, 256, 4 * MiB),
                                       ("chunkMax", self.chunk_max, 1 * KiB, 16 * MiB)):
            if not low <= value <= high:  # pyfastcdc's ranges
                raise UsageError(f"git config mlv.{name} = {value} is out of range: {low} to {high} "
                                 "bytes (default: mlv.chunkMin 16k, mlv.chunkAvg 48k, mlv.chunkMax 256k)")
        if not self.chunk_min <= self.chunk_avg <= self.chunk_max:
            raise UsageError(f"git config mlv.chunkMin ({self.chunk_min}) <= mlv.chunkAvg "
                             f"({self.chunk_avg}) <= mlv.chunkMax ({self.chunk_max}) does not hold")
        if not -(1 << 17) <= self.compression_level <= 22:  # zstd's levels (negative: faster)
            raise UsageError(f"git config mlv.compressionLevel = {self.compression_level} is out of "
                             "range: zstd levels go up to 22 (0 stores chunks raw, 1 is the default)")
        if self.pack_size < 64 * KiB:
            raise UsageError(f"git config mlv.packSize = {self.pack_size} is too small: at least 64k "
                             "(default 64m)")


def parse_size(text: str) -> int:
    """``65536``, ``64k``, ``64KiB``, ``32m`` -> bytes."""
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    mult = {"k": KiB, "m": MiB, "g": 1024 * MiB}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    try:
        return int(t) * mult
    except ValueError:
        raise UsageError(f"not a size: {text!r} (use e.g. 65536, 64k, 32m)") from None


def _int(config: Mapping[str, str], key: str, default: int) -> int:
    """The value of ``key`` (spelled as the docs spell it, looked up lower-cased as git lists it)."""
    value = config.get(key.lower())
    if value is None:
        return default
    try:
        return parse_size(value)
    except UsageError:
        raise UsageError(f"git config {key} = {value!r} is not a number") from None


def days(config: Mapping[str, str], key: str, default: float) -> float:
    """A setting counted in days (``mlv.gcReflogDays``, ``mlv.gcRunCacheDays``): 0 or more. A word
    gave "internal error: ValueError" before, and a negative number counted everything as old."""
    raw = config.get(key.lower(), f"{default:g}")
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"git config {key} = {raw!r} is not a number of days "
                         f"(default {default:g})") from None
    if not value >= 0:  # nan too
        raise UsageError(f"git config {key} = {raw!r}: the days must be 0 or more (default {default:g})")
    return value
