"""git mlv remote add|list|remove|modify: where the data goes."""

from __future__ import annotations

import argparse
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "remote", help="manage data remotes (folder, s3://, gs://, az://, ssh://)",
        description="Data remotes hold the data git-mlv pushes: a folder path or file:// URL, "
        "s3://bucket/prefix, gs://bucket/prefix, az://container[@account]/prefix, or "
        "ssh://[user@]host[:port]/path (or [user@]host:path). They are recorded in the tracked "
        ".gitmlv (shared with every clone), or with --local in .git/config. Per-remote settings "
        "that must not be shared (endpoints, S3 region and profile, Azure account and key, SSH "
        "identity file and host-key opt-in) go in .git/config via `remote modify`. A relative "
        "folder path is typed relative to the current folder and stored relative to the "
        "repository's root; `add` creates the folder, and no other command does (a push to a "
        "folder that is gone fails).",
    )
    verbs = p.add_subparsers(dest="remote_verb", metavar="ACTION")
    a = verbs.add_parser("add", help="add a data remote")
    a.add_argument("name", metavar="NAME")
    a.add_argument("url", metavar="URL")
    a.add_argument("--default", action="store_true", help="make it the default remote")
    a.add_argument("--local", action="store_true", help="record it in .git/config, not .gitmlv")
    ls = verbs.add_parser("list", help="list data remotes")
    ls.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    r = verbs.add_parser("remove", help="forget a data remote (its data stays where it is)")
    r.add_argument("name", metavar="NAME")
    rn = verbs.add_parser(
        "rename", help="rename a data remote (its settings and cached indexes follow)",
        description="Rename a data remote in .gitmlv (commit it) or .git/config, with its local "
        "settings (endpoint, keys, trusted URL) and this clone's cache of its indexes, so nothing "
        "is transferred again. After pulling a teammate's rename, run the same command to carry "
        "your local settings for OLD over to NEW.")
    rn.add_argument("old", metavar="OLD")
    rn.add_argument("new", metavar="NEW")
    m = verbs.add_parser(
        "modify", help="change a remote's url, the default, or a local setting",
        description="KEY is url; default (true makes NAME the default remote: core.remote in "
        ".gitmlv, or mlv.remote in .git/config for a --local remote; one remote alone is the "
        "default anyway); or one of: endpoint (S3, Azure, GCS), region, profile, "
        "addressingStyle (S3), account, accountKey, sasToken (Azure), anonymous (GCS), "
        "identityFile, acceptNewHostKey (SSH), stored in .git/config as mlv-remote.NAME.KEY. A "
        "setting the remote's kind does not read (region on a folder remote) is refused.",
    )
    m.add_argument("name", metavar="NAME")
    m.add_argument("key", metavar="KEY")
    m.add_argument("value", metavar="VALUE")
    t = verbs.add_parser(
        "trust", help="accept the URL .gitmlv now names for a remote",
        description="A commit that changes a remote's url in the tracked .gitmlv redirects where "
        "data goes. Fetch still reads from the new URL (everything is verified by hash) but push "
        "refuses it until you run this. The accepted URL is kept in .git/config as "
        "mlv-remote.NAME.trustedUrl.")
    t.add_argument("name", metavar="NAME")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..ops import remote_config
    from ..ops.context import Workspace
    from .render import print_json, table

    verb = args.remote_verb or "list"
    with Workspace.discover() as ws:
        if verb == "add":
            rc = remote_config.add(ws, args.name, args.url, default=args.default, local=args.local)
            where = ".git/config" if args.local else ".gitmlv"
            print(f"Added data remote {rc.name} -> {rc.url} in {where}"
                  + (" (default)" if args.default else
                     # implied while it is the only one: adding another left no default, silently
                     " (the default while it is the only data remote; `git mlv remote modify "
                     f"{rc.name} default true` keeps it the default)" if rc.default else "")
                  + ("" if args.local else "; commit .gitmlv so that clones find the data"))
            inside = remote_config.inside_worktree(ws, rc.url)
            if inside and os.path.realpath(inside) == os.path.realpath(ws.repo.top):
                print(f"git-mlv: warning: the folder {inside} is this repository's work tree itself: "
                      "the remote's packs/ would sit among your files, show in `git status` and "
                      f"could be committed; choose a folder outside it (`git mlv remote modify "
                      f"{rc.name} url PATH`)", file=sys.stderr)
            elif inside:
                print(f"git-mlv: warning: the folder {inside} is inside this repository's work tree: "
                      "its files will show in `git status` and could be committed; choose a folder "
                      f"outside it (`git mlv remote modify {rc.name} url PATH`), or add it to .gitignore",
                      file=sys.stderr)
        elif verb == "remove":
            rc = remote_config.remove(ws, args.name)
            print(f"Removed data remote {rc.name}")
        elif verb == "rename":
            renamed, moved = remote_config.rename(ws, args.old, args.new)
            if renamed is None:
                print(f"Moved this clone's settings of data remote {args.old} to {args.new}: "
                      + ", ".join(moved))
            else:
                print(f"Renamed data remote {args.old} to {args.new}"
                      + ("; commit .gitmlv so that clones find it" if renamed.scope == "tracked" else ""))
        elif verb == "trust":
            from ..ops import trust

            rc = trust.trust(ws, args.name)
            print(f"Data remote {rc.name} -> {rc.url} is trusted: push will upload there")
        elif verb == "modify":
            rc = remote_config.modify(ws, args.name, args.key, args.value)
            print(f"Updated data remote {rc.name}")
        else:
            rows = sorted(remote_config.remotes(ws).values(), key=lambda r: r.name)
            if getattr(args, "json", False):
                print_json([{"name": r.name, "url": r.url, "default": r.default, "scope": r.scope,
                             "options": r.options, "trusted_url": r.trusted_url} for r in rows])
            elif rows:
                from ..ops.trust import changed

                table([(("* " if r.default else "  ") + r.name, r.url,
                        # a local mlv-remote.NAME.url over the tracked one: say where the URL is from
                        r.scope + (" (url local)" if r.scope == "tracked" and not r.url_from_tracked else ""),
                        " ".join(f"{k}={v}" for k, v in sorted(r.options.items())),
                        f"changed from {r.trusted_url}: `git mlv remote trust {r.name}`"
                        if changed(r) else "")
                       for r in rows], ["NAME", "URL", "WHERE", "SETTINGS", "TRUST"])
    return 0
