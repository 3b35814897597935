"""git mlv du."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("du", help="logical vs stored size, dedup and compression ratios")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import du
    from ..ops.context import Workspace
    from .render import human_size, print_json, table

    with Workspace.discover() as ws:
        r = du.du(ws)
        partial = partial_clone(ws.repo.config)
    data = {
        "files": r.files, "missing": r.missing, "logical": r.logical, "unique": r.unique,
        "stored": r.stored, "on_disk": r.on_disk, "dedup_ratio": round(r.dedup_ratio, 3),
        "compression_ratio": round(r.compression_ratio, 3), "total_ratio": round(r.total_ratio, 3),
        "disk_ratio": round(r.disk_ratio, 3),
        "partial_clone": partial,
    }
    if args.json:
        print_json(data)
        return 0
    table([
        ["file versions", r.files, ""],
        ["logical size (every version whole)", human_size(r.logical), ""],
        ["after dedup (distinct chunks)", human_size(r.unique), f"{r.dedup_ratio:.2f}x"],
        ["after compression (stored)", human_size(r.stored), f"{r.compression_ratio:.2f}x"],
        ["pool on disk (packs + indexes)", human_size(r.on_disk), f"{r.disk_ratio:.2f}x overall"],
    ], ["", "size", "ratio"])
    if r.on_disk > 2 * r.stored + (1 << 20):
        print("the pool holds data these versions do not need (deleted branches, rewritten "
              "commits: kept for the reflog or another worktree, or left for gc to drop); "
              "`git mlv gc --dry-run` says what gc would free")
    if r.missing:
        print(f"{r.missing} referenced version(s) have no data here (`git mlv fetch --all`)")
    if partial:
        print("a partial clone: versions whose pointer git has not fetched are not counted")
    return 0


def partial_clone(config: dict[str, str]) -> bool:
    """True in a partial clone (`git clone --filter=...`): git marks a promisor remote."""
    return "extensions.partialclone" in config or any(
        k.startswith("remote.") and k.endswith(".promisor") and v.lower() == "true"
        for k, v in config.items())
