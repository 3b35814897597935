"""git mlv status."""

from __future__ import annotations

import argparse
import dataclasses


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="tracked files: modified, data missing, not on the remote")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-remote", action="store_true", help="do not compare with the default remote")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import data, imports, remote_state, setup
    from ..ops.context import Workspace
    from .render import print_json

    with Workspace.discover() as ws:
        st = data.status(ws, check_remote=not args.no_remote)
        unpushed = None if args.no_remote else remote_state.commits_not_on_remote(ws)
        hook_problems = setup.hook_problems(ws.repo) if st.remote else []
        sources = [] if args.no_remote else imports.source_states(ws)
    if args.json:
        print_json({**dataclasses.asdict(st),
                    "commits_not_on_remote": [{"commit": c, "subject": s}
                                              for c, s in (unpushed.commits if unpushed else [])],
                    "hook_problems": hook_problems,
                    "imports": [{**dataclasses.asdict(s), "moved": s.moved} for s in sources]})
        return 0
    print(f"{st.files} file(s) tracked by git-mlv"
          + (f", {st.sparse} outside the sparse checkout" if st.sparse else ""))
    if st.out_of_scope:
        print(f"{st.out_of_scope} file(s) left as pointers, out of the fetch scope "
              "(mlv.fetchInclude/Exclude; `git mlv pull -I PATTERNS` fetches some)")
    sections = [
        ("Modified (not staged)", st.modified),
        ("Data not in the local pool (run `git mlv pull`)", st.missing_data),
        ("Pointers in the worktree (run `git mlv checkout`)",
         [p for p in st.not_checked_out if p not in st.missing_data]),
        (f"Not yet on remote '{st.remote}' (run `git mlv push`)", st.not_on_remote),
    ]
    if unpushed is not None and unpushed.files:
        sections.append((f"Commits whose data is not all on remote '{unpushed.remote}' "
                         f"({unpushed.files} file(s); `git push` or `git mlv push --all` sends it)",
                         [f"{c[:10]} {subject}" for c, subject in unpushed.commits]
                         or ["(in commits of local branches)"]))
    moved = [f"{s.out}: {s.url} {s.rev or 'HEAD'} is at {s.now[:10]}, imported {s.commit[:10]}"
             for s in sources if s.moved and s.now]
    sections.append(("Imports whose source moved (`git mlv update OUT` follows it)", moved))
    sections.append(("Import sources that could not be asked", [f"{s.out}: {s.error}" for s in sources
                                                              if s.error]))
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
        print("Everything is in place" + (f" and on remote '{st.remote}'" if st.remote else ""))
    return 0
