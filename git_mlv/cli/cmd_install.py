"""git mlv install / uninstall."""

from __future__ import annotations

import argparse
import sys


def _scope(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--global", dest="scope", action="store_const", const="global",
                   help="for every repository of this user (default)")
    g.add_argument("--local", dest="scope", action="store_const", const="local",
                   help="for this repository only")
    g.add_argument("--system", dest="scope", action="store_const", const="system",
                   help="for every user of this machine")
    p.set_defaults(scope="global")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("install", help="configure git to use git-mlv (filter, diff, hooks)",
                       description="Set filter.mlv.* and diff.mlv.* in git config and, inside a "
                       "repository, install the pre-push, post-checkout and post-merge hooks. A hook "
                       "already there (git-lfs's, your own) is chained: it moves to NAME.mlv-chained "
                       "and runs after git-mlv's with the same arguments and stdin; pre-commit's "
                       "runs git-mlv's as NAME.legacy; for husky the lines to add are printed. git names "
                       "this git-mlv by its full path, so it works where its environment is not "
                       "active; run install again from a new environment.")
    _scope(p)
    p.add_argument("--force", action="store_true",
                   help="replace other hooks instead of chaining them (they are kept as "
                   "NAME.mlv-backup)")
    p.set_defaults(func=run_install)
    u = sub.add_parser("uninstall", help="remove git-mlv's git config and hooks",
                       description="Remove filter.mlv.*, diff.mlv.* and merge.mlv.* from the "
                       "config of the scope and, inside a repository, git-mlv's hooks (those it "
                       "chained or backed up are put back). A repository whose own config still sets "
                       "the filter (install --local, or a clone that track set up) keeps its hooks; "
                       "a note names "
                       "every config that still sets it. In a repository that tracks data, git may "
                       "then show the data files as modified, and `git add` of one stores its data "
                       "in git: `git mlv install` puts the filter back.")
    _scope(u)
    u.set_defaults(func=run_uninstall)


def run_install(args: argparse.Namespace) -> int:
    from ..ops import setup

    res = setup.install(args.scope, force=args.force)
    print(f"git-mlv filter configured ({args.scope})")
    if res.hooks is None:
        return 0
    for name in res.hooks.installed + res.hooks.upgraded + res.hooks.backed_up:
        print(f"hook {name} installed in {res.hooks_dir}")
    for name, what in res.hooks.chained:
        print(f"hook {name}: chained with {what}")
    for name, why in res.hooks.refused:
        print(f"git-mlv: error: hook {name}: {why}", file=sys.stderr)
    return 1 if res.hooks.refused else 0


def run_uninstall(args: argparse.Namespace) -> int:
    from ..ops import setup

    res = setup.uninstall(args.scope)
    for name in res.hooks:
        print(f"hook {name} removed")
    # before: "removed" also where the scope's config never set it (a user trying each scope)
    print(f"git-mlv filter removed ({args.scope})" if res.removed else
          f"git-mlv filter was not set in the {args.scope} config: nothing to remove there")
    if res.tracks_data and not res.still:
        print("git-mlv: note: this repository tracks data with git-mlv (.gitattributes): without the "
              "filter, git may show its checked-out data files as modified, and `git add` of one stores "
              "the data itself in git; `git mlv install` puts the filter back", file=sys.stderr)
    if res.still:
        scopes = ", ".join(res.still)
        kept = " (its hooks stay)" if res.in_repo and not res.hooks else ""
        print(f"git-mlv: note: git still runs git-mlv here: the {scopes} config sets it{kept}; "
              f"`git mlv uninstall --{res.still[0]}` removes it", file=sys.stderr)
    return 0
