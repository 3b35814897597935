"""git mlv migrate import | from-lfs | from-dvc."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from .render import Progress, human_size, print_json

IMPORT_EPILOG = """\
examples:
  git mlv migrate import --include="*.bin,data/**" --everything   rewrite all branches and tags
  git mlv migrate import --include="*.h5" --no-rewrite            one new commit on top, history kept
  git mlv migrate import --include="*.bin" --dry-run              what would change
  git mlv migrate import --above=10MB --everything                only files bigger than 10 MB

The old refs stay under refs/mlv-migrate/ until you delete them
(git for-each-ref --format='delete %(refname)' refs/mlv-migrate/ | git update-ref --stdin).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="bring data in from plain git, git-lfs or DVC",
                       description="Convert an existing repository to git-mlv: files in plain git "
                       "history (import), git-lfs pointers (from-lfs) or a DVC project (from-dvc).")
    verbs = p.add_subparsers(dest="migrate_verb", metavar="MODE", required=True)

    imp = verbs.add_parser("import", help="turn files of a plain-git history into git-mlv pointers",
                           description="Rewrite the checked-out branch (or REFs, or --everything) so "
                           "that files matching --include become git-mlv pointers, their bytes go into "
                           "the pool, and every commit carries the matching .gitattributes lines. "
                           "Tags move only when named as REFs or with --everything (every local "
                           "branch and tag); the old refs are kept under refs/mlv-migrate/.",
                           epilog=IMPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("refs", nargs="*", metavar="REF", help="branches or tags to rewrite "
                     "(default: the checked-out branch)")
    imp.add_argument("-I", "--include", action="append", default=[], metavar="PATTERNS",
                     help="comma-separated gitattributes patterns of the files to convert "
                     "(default: the patterns `git mlv track` wrote)")
    imp.add_argument("-X", "--exclude", action="append", default=[], metavar="PATTERNS",
                     help="comma-separated patterns of files to leave in git")
    imp.add_argument("--above", metavar="SIZE", help="convert only the paths that hold a file bigger "
                     "than SIZE (e.g. 10MB, 1GiB) somewhere in the rewritten history; each gets its own "
                     ".gitattributes line")
    imp.add_argument("--everything", action="store_true", help="rewrite every local branch and tag")
    imp.add_argument("--no-rewrite", action="store_true",
                     help="keep history: convert the checked-out tree in one new commit")
    imp.add_argument("-m", "--message", help="message of the --no-rewrite commit")
    imp.add_argument("--dry-run", action="store_true", help="only say what would change")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(func=run_import)
    register_from_lfs(verbs)
    register_from_dvc(verbs)


def run_import(args: argparse.Namespace) -> int:
    from ..ops import migrate
    from ..ops.context import Workspace
    from ..ops.migrate_above import parse_size

    if args.message is not None and not args.no_rewrite:  # it was silently ignored
        from ..errors import UsageError

        raise UsageError("-m/--message is the message of the --no-rewrite commit; a rewrite keeps "
                         "each commit's own message (add --no-rewrite, or leave -m out)")
    above = parse_size(args.above) if args.above is not None else None
    opts = migrate.ImportOptions(include=args.include, exclude=args.exclude, refs=args.refs,
                                 everything=args.everything, no_rewrite=args.no_rewrite,
                                 dry_run=args.dry_run, message=args.message, above=above)
    with Workspace.discover() as ws:
        res = migrate.import_files(ws, opts, Progress("Rewriting", args.quiet, unit="commits"))
    if args.json:
        print_json(dataclasses.asdict(res))
        return 0
    render_summary(res, "file(s)")
    return 0


def render_summary(res: Any, noun: str) -> None:
    """The common report of a migration: what was converted, which refs moved, what to push."""
    if not res.refs and (not res.dry_run or not (res.files or res.rewritten)):
        # no ref moves: a "Converted N ... in M commit(s)" line would contradict this one
        print(f"Nothing to change: {res.warnings[0]}" if res.warnings else
              "Nothing to change: already converted")
        return
    verb = "Would convert" if res.dry_run else "Converted"
    print(f"{verb} {res.files} {noun} ({human_size(res.bytes)}) in {res.rewritten} of {res.commits} "
          f"commit(s)")
    if res.dry_run:
        for r in res.refs:
            if res.mode == "no-rewrite":
                print(f"  would add one commit on {r.name.removeprefix('refs/heads/')} (no commit "
                      "rewritten)")
            else:
                print(f"  would rewrite {r.name}")
        return
    if getattr(res, "commit", None):
        print(f"New commit {res.commit[:12]} on {res.refs[0].name.removeprefix('refs/heads/')}")
    else:
        for r in res.refs:
            print(f"  {r.name}: {r.old[:12]} -> {r.new[:12]}")
        if res.backups:
            print(f"Old refs kept under refs/mlv-migrate/ ({len(res.backups)} new backup(s))")
    for w in res.warnings:
        print(f"warning: {w}")
    if res.push:
        print("To publish:")
        for cmd in res.push:
            print(f"  {cmd}")
        if res.mode == "rewrite":
            print(REWRITTEN_NOTE)


# After a pushed rewrite, `git pull` in a clone made before merges the old commits (their blobs,
# git-lfs pointers or DVC files) back in, or stops at "refusing to merge unrelated histories".
REWRITTEN_NOTE = """\
Clones made before hold the old history: `git pull` there would merge it back in (or refuse:
"unrelated histories"). Each teammate runs `git mlv install` once, then clones again, or saves
their work and runs `git fetch`, `git reset --hard origin/BRANCH` and `git mlv pull`
(docs/migrate.md#after-the-migration)."""


def register_from_lfs(verbs: argparse._SubParsersAction) -> None:
    """``migrate from-lfs``."""
    p = verbs.add_parser("from-lfs", help="turn git-lfs pointers and objects into git-mlv data",
                         description="Convert git-lfs files: their pointers become git-mlv pointers, "
                         "their bytes go from .git/lfs/objects into the pool (each checked against "
                         "git-lfs's sha256), and filter=lfs lines in .gitattributes become filter=mlv. "
                         "Without --everything the checked-out tree is converted in one new commit; "
                         "with it every local branch and tag is rewritten (old refs kept under "
                         "refs/mlv-migrate/).")
    _from_args(p, run_from_lfs)


def _from_args(p: argparse.ArgumentParser, run: Any) -> None:
    """The options every from-X conversion takes."""
    p.add_argument("--everything", action="store_true", help="rewrite every local branch and tag")
    p.add_argument("--dry-run", action="store_true", help="only say what would change")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _run_from(args: argparse.Namespace, convert: Any) -> Any:
    """Run a from-X conversion in the current repository; the result, or None once printed as JSON."""
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        res = convert(ws, args.everything, args.dry_run, Progress("Rewriting", args.quiet, unit="commits"))
    if args.json:
        print_json(dataclasses.asdict(res))
        return None
    return res


def run_from_lfs(args: argparse.Namespace) -> int:
    from ..ops import migrate_lfs

    res = _run_from(args, migrate_lfs.from_lfs)
    if res is not None:
        render_summary(res, "git-lfs file(s)")
        if not res.dry_run and res.refs and res.mode == "no-rewrite":
            print("Older commits keep their git-lfs pointers: keep git-lfs to check them out "
                  "(or convert them too with --everything)")
    return 0


def register_from_dvc(verbs: argparse._SubParsersAction) -> None:
    """``migrate from-dvc``."""
    p = verbs.add_parser("from-dvc", help="turn a DVC project into a git-mlv one",
                         description="Convert a DVC project: outputs of .dvc files and cached dvc.yaml "
                         "outputs become tracked git-mlv data (bytes from .dvc/cache, md5-checked); "
                         "dvc.yaml stages become .gitmlv stages and dvc.lock becomes .gitmlv.lock, so "
                         "`git mlv repro` finds up to date what DVC did; DVC remotes git-mlv supports "
                         "are printed as `git mlv remote add` commands. Without --everything the "
                         "checked-out state is converted in one new commit; with it every local branch "
                         "and tag is rewritten (old refs kept under refs/mlv-migrate/).")
    _from_args(p, run_from_dvc)


def run_from_dvc(args: argparse.Namespace) -> int:
    from ..ops import migrate_dvc

    res = _run_from(args, migrate_dvc.from_dvc)
    if res is None:
        return 0
    render_summary(res, "DVC file(s)")
    if res.stages:
        print(f"Stages: {', '.join(res.stages)}")
        if res.stale:
            print(f"Not up to date in DVC's lock (git mlv repro will run them): {', '.join(res.stale)}")
    if res.remotes:
        print("DVC remotes, as git-mlv remotes (run these to add them):")
        for cmd in res.remotes:
            print(f"  {cmd}")
    for r in res.unsupported:
        print(f"DVC remote {r}: a kind git-mlv does not support; not converted")
    for d in res.dropped:
        print(f"Not converted, {d}")
    if not res.dry_run and res.refs:
        print("DVC's own folder is left as it was: `git rm -r -q .dvc .dvcignore && rm -rf .dvc` when "
              "you no longer need it")
        if res.mode == "no-rewrite":  # the cache is where the older commits' data still is
            print("Older commits keep their .dvc files: their data is only in .dvc/cache and DVC's "
                  "remotes (convert them too with --everything before deleting .dvc)")
    return 0
