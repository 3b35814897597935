"""git mlv help [VERB]: the manual page of git-mlv or of one verb."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("help", help="show the manual of git-mlv or of one verb",
                       description="Open the manual page of git-mlv, or of VERB, with man (`git mlv "
                       "--help` does the same through git). Without man, print the verb's --help.")
    p.add_argument("verb", nargs="?", metavar="VERB", help="a git-mlv verb, e.g. migrate")
    p.add_argument("action", nargs="?", metavar="ACTION",
                   help="an action of VERB (`git mlv help remote add`): its --help")
    p.set_defaults(func=run)


def _page_file(name: str) -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "man", "man1",
                        f"{name}.1")


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from .intermixed import subcommands
    from .main import build_parser

    parser = build_parser()
    parser.prog = "git mlv"
    target = parser
    if args.verb:
        sub = subcommands(parser)
        if sub is None or args.verb not in sub.choices:
            raise UsageError(f"no verb {args.verb!r}; `git mlv --help` lists them")
        target = sub.choices[args.verb]
    if args.action:  # before: "unrecognized arguments: add"
        actions = subcommands(target)
        if actions is None or args.action not in actions.choices:
            known = ", ".join(actions.choices) if actions else "none"
            raise UsageError(f"no action {args.action!r} of `git mlv {args.verb}` (actions: {known})")
        print(actions.choices[args.action].format_help(), end="")
        return 0
    name = "git-mlv" + (f"-{args.verb}" if args.verb else "")
    man = shutil.which("man")
    if man:
        # the installed page (found from PATH, like git's own), else the one shipped in the package
        if subprocess.run([man, "-w", name], capture_output=True).returncode == 0:
            return subprocess.run([man, name]).returncode
        if os.path.exists(_page_file(name)):
            return subprocess.run([man, "-l", _page_file(name)]).returncode
    print(target.format_help(), end="")
    return 0
