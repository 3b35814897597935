"""git mlv merge-driver: what git runs when both sides of a merge changed a tracked file.

Data cannot be merged line by line; like git's ``binary`` driver we keep our side and report a
conflict, and say how to take theirs. (Without a driver git would merge the pointer texts and leave
conflict markers inside a pointer.) Like that driver, `-X ours` / `-X theirs` given to the merge,
rebase, cherry-pick, revert or pull that runs us settle the conflict: git passes them to its own
drivers only, so we read them from the git process that started us (Linux: /proc).
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("merge-driver", help="(plumbing) git's merge driver for tracked data")
    p.add_argument("base")
    p.add_argument("ours")
    p.add_argument("theirs")
    p.add_argument("path", nargs="?", default="")
    p.set_defaults(func=run)


def _read(path: str) -> bytes:
    """A version git handed us; run by hand with a path that is not a file, one line (exit 2):
    before, "internal error: FileNotFoundError" and exit 70."""
    from ..errors import UsageError

    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise UsageError(f"{path}: not a file; git runs `git mlv merge-driver %O %A %B %P` with the "
                         "three versions' files itself (plumbing: see `git mlv merge-driver --help`)"
                         ) from None


def run(args: argparse.Namespace) -> int:
    ours = _read(args.ours)
    theirs = _read(args.theirs)
    if ours == theirs:
        return 0
    base = _read(args.base)
    if base == ours:  # only they changed it (git usually settles this before asking)
        with open(args.ours, "wb") as f:
            f.write(theirs)
        return 0
    if base == theirs:
        return 0
    from ..gitio.caller import caller_args

    git_args = caller_args()
    favor = _favor_of(git_args or [])
    if favor == "ours":
        return 0
    if favor == "theirs":
        with open(args.ours, "wb") as f:
            f.write(theirs)
        return 0
    if git_args and "rebase" in git_args[:3]:  # git's ours and theirs swap places in a rebase
        print(f"git-mlv: both sides changed data file '{args.path}'; kept ours, which in a rebase is "
              f"the branch you rebase onto. Take your commit's with "
              f"`git checkout --theirs -- '{args.path}'`, then `git add` it", file=sys.stderr)
        return 1
    print(f"git-mlv: both sides changed data file '{args.path}'; kept ours. Take theirs with "
          f"`git checkout --theirs -- '{args.path}'`, then `git add` it", file=sys.stderr)
    return 1


_STRATEGY_OPTION = "--strategy-option"


def _favor_of(args: list[str]) -> str | None:
    """"ours" or "theirs" when git's ``args`` hold `-X ours` / `-X theirs` (the last one wins, as in
    git; -Xtheirs and --strategy-option[=]theirs and its abbreviations too), else None."""
    favor = None
    taken = False
    for n, a in enumerate(args):
        if taken:
            taken = False
            continue
        if a == "--":
            break
        value = None
        if a == "-X" or (len(a) > 2 and a.startswith("--strategy-o") and _STRATEGY_OPTION.startswith(a)):
            value, taken = (args[n + 1] if n + 1 < len(args) else None), True
        elif a.startswith("-X"):
            value = a[2:]
        elif a.startswith("--strategy-o") and "=" in a and _STRATEGY_OPTION.startswith(a.split("=")[0]):
            value = a.split("=", 1)[1]
        if value in ("ours", "theirs"):
            favor = value
    return favor
