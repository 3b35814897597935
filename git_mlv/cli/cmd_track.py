"""git mlv track / untrack."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help="route files matching patterns through git-mlv",
                       description="Add `PATTERN filter=mlv diff=mlv merge=mlv -text` lines to "
                       "the root's .gitattributes. A pattern typed in a subdirectory is relative to "
                       "it, as in that folder's own .gitattributes (in data/, \"*.csv\" is written "
                       "data/**/*.csv and \"sub/**\" data/sub/**). An absolute path inside the "
                       "repository tracks that file; git's pathspec magic (':(glob)', ':!') is "
                       "refused, as .gitattributes does not know it. Without patterns, list the "
                       "tracked ones.")
    p.add_argument("patterns", nargs="*", metavar="PATTERN", help='e.g. "*.h5" "data/**"')
    p.add_argument("--json", action="store_true", help="list as JSON")
    p.set_defaults(func=run_track)
    u = sub.add_parser("untrack", help="stop routing patterns through git-mlv",
                       description="Remove the lines of these patterns from the root's "
                       ".gitattributes (typed in a subdirectory: relative to it, as track takes them). "
                       "Files committed as data stay pointers in git's index until `git add "
                       "--renormalize .` stores them whole; untrack names them.")
    u.add_argument("patterns", nargs="+", metavar="PATTERN")
    u.set_defaults(func=run_untrack)


def run_track(args: argparse.Namespace) -> int:
    from ..gitio.attributes import display, quoted
    from ..gitio.quotepath import quote_path
    from ..ops import data, setup
    from ..ops.context import Workspace
    from .render import print_json

    ws = Workspace.discover()
    if not args.patterns:
        pats = setup.tracked_patterns(ws)
        if args.json:
            print_json(pats)
        else:
            for p in pats:
                print(display(p))
        return 0
    pats = setup.track_patterns(ws, args.patterns)
    added = setup.track(ws, pats)
    note = setup.ensure_installed(ws)
    if note:
        print(note)
    for p in pats:
        print(f"Tracking {quoted(p)}" if p in added else f"{quoted(p)} already tracked")
    whole = data.whole_inside_patterns(ws) if added else []
    if whole:  # before, said after every new pattern, whether or not a file matched
        print(f"{len(whole)} file(s) git holds whole match the tracked patterns and stay so until "
              f"re-added (e.g. {quote_path(whole[0])}): `git add --renormalize .` stores them as data")
    meant = setup.shell_expanded(args.patterns)
    if meant:
        print(f"These are the names of existing files: did the shell expand a pattern? A new file "
              f"will not be tracked by them; quote the pattern: git mlv track \"{meant}\" (and `git "
              f"mlv untrack` the names)")
    if added:
        print("Commit .gitattributes with them (`git add .gitattributes`): a clone knows which "
              "files are data only from it")
    encoded = setup.encoded_data_files(ws)
    if encoded:
        shown = ", ".join(quote_path(p) for p in encoded[:3]) + (f" and {len(encoded) - 3} more"
                                                                  if len(encoded) > 3 else "")
        print(f"git-mlv: warning: {len(encoded)} file(s) git-mlv tracks have a working-tree-encoding "
              f"in .gitattributes ({shown}): git would re-encode their pointers and commit text "
              "that is neither pointer nor data (not pushed; gc would drop the data). Add "
              "-working-tree-encoding to the git-mlv line, or remove the encoding for them",
              file=sys.stderr)
    return 0


def run_untrack(args: argparse.Namespace) -> int:
    from ..gitio.attributes import quoted
    from ..ops import setup
    from ..ops.context import Workspace

    ws = Workspace.discover()
    pats = setup.root_patterns(ws, args.patterns)
    removed = setup.untrack(ws, pats)
    for p in pats:
        print(f"Untracked {quoted(p)}" if p in removed else f"{quoted(p)} was not tracked")
    if removed:
        from ..ops.data import pointers_outside_patterns

        left = pointers_outside_patterns(ws)
        if left:  # git stat-matches them and would commit the pointer text as their content
            print(f"{len(left)} file(s) are still git-mlv pointers in git's index (e.g. {left[0]}): "
                  "`git add --renormalize .` stores their content in git whole (`git mlv pull` "
                  "first for any whose data is not here); committed as they are, git keeps the "
                  "pointer text, and clones get that text instead of the data")
    return 0
