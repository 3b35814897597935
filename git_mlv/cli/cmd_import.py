"""git mlv import URL PATH [-o OUT] [--rev REV] [--force]."""

from __future__ import annotations

import argparse

from .cmd_get import add_source_args, summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help="download from another git-mlv repository, track it, record the source",
        description="Like `git mlv get`, then track OUT with git-mlv (its data enters this "
        "repository's pool, so `git push` uploads it to this repository's data remote), record the "
        "source as [import \"OUT\"] in .gitmlv and stage OUT, .gitattributes and .gitmlv. "
        "`git mlv update` moves it later; `git mlv status` says when its source moved. "
        "See docs/imports.md.",
    )
    add_source_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..ops import imports
    from ..ops.context import Workspace
    from .cmd_checkout import install_first
    from .render import Progress, print_json

    with Workspace.discover() as ws:
        install_first(ws)  # as track, add and pull do (it refused before: "run `git mlv install`")
        res = imports.import_(ws, args.url, args.path, args.out, args.rev, args.force,
                              progress=Progress("import", args.quiet or args.json))
    if args.json:
        print_json(asdict(res))
    elif not args.quiet:
        print(summary("Imported", res))
        print("Staged it with .gitattributes and .gitmlv; commit with `git commit`")
    return 0
