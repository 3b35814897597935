"""git mlv status."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..ops.context import Workspace
    from ..ops.status import Status

_NAMED = 5  # pointers outside the patterns named one a line, then counted
# files modified, without data, as pointers, not on the remote: one line each up to this many
# (a folder of 10,000 files without data printed 10,003 lines); --json lists them all
_LISTED = 10
_ALL_OF = " (`git mlv status --json` lists them all)"


def _named(paths: list[str], limit: int = _NAMED, all_of: str = "") -> list[str]:
    """The first ``limit`` of ``paths``, quoted, one a line, then how many more (``all_of``: where
    the rest can be read)."""
    from .render import quote_path

    more = len(paths) - limit
    return [quote_path(p) for p in paths[:limit]] + ([f"... and {more} more{all_of}"] if more > 0 else [])


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status", help="tracked files: modified, data missing, not on the remote",
        description="Tracked files (all, or those at or under PATHs) that need attention: unmerged "
        "(a merge conflict, in git's words, and how to resolve it), modified, "
        "data not in the local pool, pointers in the worktree, data not on the default remote; "
        "of those, files whose `text` attribute overrides git-mlv's -text (and the line that sets it). "
        "Without PATHs also commits whose data is not all on the remote, and imports whose source "
        "moved. The remote's answer comes from its cached listing, listed again when older than a "
        "minute; when it cannot be asked, status says so and how old the listing is. Files without data, "
        "as pointers or not on the remote are named ten at a time, then counted (--json lists all).")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders to look at, or a quoted glob ('data/*.csv', as git takes it); "
                   "files are named relative to the current folder, as git status names them "
                   "(status.relativePaths=false: from the top; --json: always from the top)")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.add_argument("--no-remote", action="store_true", help="do not compare with the default remote")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from ..ops import data, eol, hooks, imports, status
    from ..ops.addpaths import refuse_pathspec_magic
    from ..ops.context import Workspace
    from .render import print_json, quote_path

    refuse_pathspec_magic(args.paths, "status")
    with Workspace.discover() as ws:
        _warn_if_not_installed(ws)
        st, unpushed = status.status_and_commits(ws, check_remote=not args.no_remote,
                                                 paths=args.paths or None)
        converted = eol.converted_pointers(ws, st.modified)
        if converted:  # pointer text, not a change of the data
            st.modified = [p for p in st.modified if p not in set(converted)]
        converted = st.converted_pointers = sorted(set(converted) | set(st.converted_pointers))
        # no remote found because none could be read (.gitmlv unreadable): nothing more to ask
        unread = st.remote is None and st.remote_problem is not None
        whole = not args.no_remote and not args.paths and not unread
        hook_problems = hooks.hook_problems(ws) if st.remote or st.outside_patterns else []
        sources = imports.source_states(ws) if whole else []
        attributes_gone = bool(st.outside_patterns) and data.attributes_left_out(ws)
        relative = relative_to_cwd(ws)
        # deleted from the worktree: "deleted:" as git status says, not "pointers in the worktree"
        # (before, a deleted file was listed there too, where no pointer was)
        deleted = {p for p in st.modified if not os.path.lexists(os.path.join(ws.repo.top, p))}
    if args.json:
        print_json({**dataclasses.asdict(st),
                    "commits_not_on_remote": [{"commit": c, "subject": s}
                                              for c, s in (unpushed.commits if unpushed else [])],
                    "hook_problems": hook_problems,
                    "imports": [{**dataclasses.asdict(s), "moved": s.moved} for s in sources]})
        return 0
    if relative is not None:  # as git status shows them: relative to the current folder
        for name in ("modified", "not_checked_out", "missing_data", "not_on_remote", "outside_patterns",
                     "staged_outside", "converted_pointers", "text_attribute"):
            setattr(st, name, [relative(p) for p in getattr(st, name)])
        st.unmerged = {relative(p): how for p, how in st.unmerged.items()}
        deleted = {relative(p) for p in deleted}
        converted = st.converted_pointers
    print(f"{st.files} file(s) tracked by git-mlv"
          + (f", {st.sparse} outside the sparse checkout" if st.sparse else ""))
    if st.remote_problem:
        who = f"Remote '{st.remote}'" if st.remote else "The data remote"
        print(f"{who} could not be asked: {st.remote_problem}")
    if st.out_of_scope:
        print(f"{st.out_of_scope} file(s) left as pointers, out of the fetch scope "
              "(mlv.fetchInclude/Exclude; `git mlv pull -I PATTERNS` fetches some)")
    # every modified file, as git status lists them; the data lists are capped (--json has all)
    sections = [("Modified (not staged)", [("deleted: " if p in deleted else "") + quote_path(p)
                                           for p in st.modified])]
    missing = set(st.missing_data)  # (a list's `in`: 10^8 comparisons at 10,000 files)
    if st.unmerged:
        one_side = any(how != "both modified" and how != "both added" for how in st.unmerged.values())
        sections.insert(0, ("Unmerged (a merge conflict: `git checkout --ours -- FILE` or `--theirs -- FILE` "
                            "writes that side's data, then `git add FILE` marks it resolved"
                            + ("; where one side has no file, `git add FILE` keeps it and `git rm FILE` "
                               "deletes it" if one_side else "") + ")",
                            [f"{how}: {quote_path(p)}" for p, how in st.unmerged.items()]))
    sections += [(title, _named(paths, _LISTED, _ALL_OF)) for title, paths in (
        (_missing_title(ws, st, args.no_remote), st.missing_data),
        ("Pointers in the worktree (run `git mlv checkout`)",
         [p for p in st.not_checked_out if p not in missing and p not in deleted]),
        (f"Not yet on remote '{st.remote}' (run `git mlv push`)", st.not_on_remote),
    )]
    if unpushed is not None and unpushed.files:
        # not `git push`: when the git remote has these commits already, git says "Everything
        # up-to-date" and never runs the pre-push hook (it sends data only with new commits)
        how = ("`git mlv push --all` sends it" if not unpushed.absent else
               f"{unpushed.absent} of them not here either, so `git push` stops: `git mlv push` in the "
               "clone that made them sends their data, `git mlv pull` then brings it here")
        sections.append((f"Commits whose data is not all on remote '{unpushed.remote}' "
                         f"({unpushed.files} file(s); {how})",
                         [f"{c[:10]} {subject}" for c, subject in unpushed.commits]
                         or ["(in commits of local branches)"]))
    moved = [f"{s.out}: {s.url} {s.rev or 'HEAD'} is at {s.now[:10]}, imported {s.commit[:10]}"
             for s in sources if s.moved and s.now]
    sections.append(("Imports whose source moved (`git mlv update OUT` follows it)", moved))
    sections.append(("Import sources that could not be asked", [f"{s.out}: {s.error}" for s in sources
                                                              if s.error]))
    if st.outside_patterns:
        sections.append(("Pointers outside every tracked pattern (git checks them out as pointer "
                         "text, not data)",
                         _named(st.outside_patterns)
                         + [data.outside_patterns_hint(st.outside_patterns, attributes_gone)]))
    if st.staged_outside:
        first = shlex.quote(st.staged_outside[0])
        sections.append(("Staged as pointers where no tracked pattern applies (moved out of the "
                         "patterns? committed, a clone gets the pointer text, not the data)",
                         _named(st.staged_outside)
                         + [f"track them (`git mlv add {first}`), or `git add --renormalize` them "
                            "to store them in git whole"]))
    if converted:
        sections.append(("Pointer text with CRLF line ends, not data (git converted the line ends "
                         "of their pointers; `git commit -a` would store that text as their data)",
                         [quote_path(p) for p in converted] + [eol.HINT]))
    if st.text_attribute:
        sections.append(("Tracked files whose `text` attribute overrides git-mlv's `-text` (git "
                         "converts their pointers' line ends: core.autocrlf, eol)",
                         _named(st.text_attribute) + [_text_hint(st)]))
    if hook_problems:
        sections.append(("Hooks (`git push` would not upload data)", hook_problems))
    clean = True
    for title, paths in sections:
        if paths:
            clean = False
            print(f"\n{title}:")
            for p in paths:
                print(f"  {p}")
    if clean:
        on = (f" and on remote '{st.remote}'" if st.remote and not st.remote_problem else
              f" (and on remote '{st.remote}' by that listing)" if st.remote else "")
        print("Everything is in place" + on)
    return 0


def relative_to_cwd(ws: Workspace) -> Callable[[str], str] | None:
    """Repository paths made relative to the current folder, as `git status` shows them (None at
    the top, or with ``status.relativePaths=false``). Before, a status typed in a subfolder
    named its files from the top, paths `git add` or `git checkout` typed there did not find."""
    import os

    top = ws.repo.top
    cwd = os.getcwd()
    if os.path.realpath(cwd) == os.path.realpath(top):
        return None
    if ws.repo.git_text("config", "--type=bool", "status.relativePaths", check=False) == "false":
        return None
    here = os.path.relpath(os.path.realpath(cwd), os.path.realpath(top))
    if here == ".." or here.startswith(".." + os.sep):
        return None  # the current folder is not inside the work tree (GIT_WORK_TREE elsewhere)

    def relative(path: str) -> str:
        return os.path.relpath(path, here).replace(os.sep, "/")

    return relative


def _text_hint(st: Status) -> str:
    """Which .gitattributes line to change for ``st.text_attribute``."""
    first = shlex.quote(st.text_attribute[0])
    if st.text_attribute_line is None:
        return (f"give them `-text` again in the last line that applies (`git check-attr -a -- {first}` "
                "shows their attributes)")
    where, _, text = st.text_attribute_line.partition(": ")
    return (f"{where} `{text}` sets it after git-mlv's `-text`: make it `-text` there, or follow it "
            f"with a line giving their pattern `-text` (`git check-attr text -- {first}` checks)")


def _missing_title(ws: Workspace, st: Status, no_remote: bool) -> str:
    """The heading of the files whose data is not here: where it can come from."""
    pull = "Data not in the local pool (run `git mlv pull`)"
    if st.remote or st.remote_problem or not st.missing_data:
        return pull
    from ..ops import remote_config

    names = sorted(remote_config.remotes(ws))
    if not names:
        from ..ops.remote_folder import shared_pool_hint

        return ("Data not in the local pool, and no data remote to fetch it from (`git mlv remote add`"
                f"{shared_pool_hint(ws)})")
    if no_remote or len(names) == 1:
        return pull
    return (f"Data not in the local pool, and no default data remote among {', '.join(names)} "
            f"(`git mlv pull {names[0]}` fetches from one)")


def _warn_if_not_installed(ws: Workspace) -> None:
    """Say so when patterns are tracked but git does not know the filter: `git add` then stores
    those files in git whole, and status would find no file of git-mlv's to report."""
    import sys

    from ..ops import setup

    if not setup.installed(ws.repo) and setup.tracked_patterns(ws):
        print("git-mlv: warning: git-mlv is not installed here, so git ignores the tracked patterns "
              "and `git add` stores those files in git whole: run `git mlv install` (then `git add "
              "--renormalize .` for files added meanwhile)", file=sys.stderr)
    gone = setup.installed_executable_gone(ws.repo)
    if gone:
        print(f"git-mlv: warning: git runs git-mlv at {gone} (where `git mlv install` found it), "
              "and it is not there any more: every checkout of tracked data fails; run `git mlv "
              "install` again from the environment git-mlv is in now", file=sys.stderr)
