"""What the git hooks do: push data before git pushes commits; fill in late data after checkouts.

``git mlv hook NAME`` reads git's stdin once; our work runs first (``run_ours``), then the hook we
compose with (``NAME.mlv-chained``: git-lfs's, a user's) gets the same arguments and the same
stdin bytes (``run_chained``). Without that, the first of two pre-push hooks to read stdin takes
all the pushed refs and the other pushes nothing (issue 8).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import MlvError
from ..gitio import hooks as gitio_hooks
from ..gitio import walk
from ..gitio.quotepath import named
from . import data, hookquick
from .context import Workspace
from .scope import fetch_scope, filter_oids

if TYPE_CHECKING:
    from .sync import PushResult

@dataclass
class HookOutcome:
    """What our part of a hook did: its exit code, the push it made, lines for the user."""

    code: int = 0
    push: PushResult | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def run_ours(ws: Workspace, name: str, args: list[str], stdin: bytes) -> HookOutcome:
    """Our part of hook ``name``."""
    if os.environ.get(hookquick.CHAINED_ENV):
        return HookOutcome()  # our shim was chained behind another copy of itself
    if name == "pre-push":
        return pre_push(ws, args, stdin)
    after_checkout(ws, name, args)
    if name == "post-checkout" and args and args[0].strip("0") == "":
        from .setup import ensure_hooks

        # end of a clone (or a new worktree): git-lfs's filter may have run after ours. Not on
        # every checkout: it costs two git calls, and the filter checks at every start anyway
        ensure_hooks(ws.repo)
    return HookOutcome()


def run_chained(ws: Workspace, name: str, args: list[str], stdin: bytes) -> int:
    """Run ``NAME.mlv-chained`` (if executable, as git would) with the same arguments and stdin."""
    return hookquick.run_chained(ws.repo.hooks_dir, name, args, stdin)


def _push_fail_ok(ws: Workspace) -> bool:
    return ws.repo.config.get("mlv.pushfailok", "false").lower() in ("true", "1", "yes", "on")


_LATER = "run `git mlv push` once it works (a `git push` sends it only along with new commits)"


def _failed(ws: Workspace, why: str, push: PushResult | None = None) -> HookOutcome:
    if _push_fail_ok(ws):
        # the refs go up now, so the next `git push` says "Everything up-to-date" and never runs
        # this hook again for them: only `git mlv push` sends their data later
        return HookOutcome(0, push, warnings=[f"data not pushed ({why}); pushing commits anyway "
                                              f"(mlv.pushFailOk): {_LATER}"])
    return HookOutcome(1, push, errors=[
        f"the data upload failed, so the push was stopped: {why}",
        "fix the problem and push again, or set mlv.pushFailOk=true to push commits without their data"])


def pre_push(ws: Workspace, args: list[str], stdin: bytes) -> HookOutcome:
    """Upload the data the pushed commits need; a non-zero code (git refuses the push) if that fails."""
    lines = [line for line in stdin.decode("utf-8", errors="replace").splitlines() if line.strip()]
    out = _upload(ws, args, lines)
    if out.push is not None and out.push.remote and out.push.files and not out.code:
        # the commits go to git's remote: will a clone of them know where their data is, and which
        # files are data? (Only for commits that hold data: a tag from before git-mlv came in has
        # no pointers, and needs neither .gitmlv nor the lines of .gitattributes.)
        from . import sync
        from .remote_hint import uncommitted_attributes, uncommitted_remote

        tips = sync.pushed_tips(lines)[:_TIPS_CHECKED]
        remote_tips = _tips_naming_no_remote_left_out(ws, out.push.remote, tips, args)
        for hint in (uncommitted_attributes(ws, tips),
                     uncommitted_remote(ws, out.push.remote, remote_tips)):
            if hint:
                out.warnings.append(hint)
    return out


_TIPS_CHECKED = 8  # as remote_hint: every tip of a big push shares the same few files


def _tips_naming_no_remote_left_out(ws: Workspace, remote: str, tips: list[str], args: list[str]
                                    ) -> list[str]:
    """The pushed tips whose ``.gitmlv`` a clone reads as it is: those naming no data remote at
    all (old tags of a migrated history, commits from before `remote add`) are left out when a
    pushed tip, or the git remote's default branch as last fetched, names ``remote`` as our
    ``.gitmlv`` does. A clone of such a commit reads the default branch's (docs/remotes.md), so
    "a clone will not find this data" was false for them."""
    from .remote_config import read_gitmlv_at
    from .remote_hint import uncommitted_remote

    def names_none(tip: str) -> bool:
        return not any(k.lower().startswith("remote.") and k.lower().endswith(".url")
                       for k in read_gitmlv_at(ws, tip))

    bare = [t for t in tips if names_none(t)]
    if not bare:
        return tips
    others = [t for t in tips if t not in bare]
    head = walk.resolve_commit(ws.repo, f"refs/remotes/{args[0]}/HEAD") if args and args[0] else None
    if any(uncommitted_remote(ws, remote, [t]) is None for t in others[:2] + ([head] if head else [])):
        return others
    return tips


def _upload(ws: Workspace, args: list[str], lines: list[str]) -> HookOutcome:
    try:
        from . import sync
    except ImportError:
        return HookOutcome()
    remote = args[0] if args else ""
    url = args[1] if len(args) > 1 else ""
    try:
        if not lines:
            # git gives no lines only when nothing is pushed, or when another command in the hook
            # script read them first: then say so rather than push nothing and exit 0
            problem = gitio_hooks.check(ws.repo.hooks_dir, "pre-push")
            if problem and sync.remote_config.remotes(ws):
                return HookOutcome(1, errors=[f"git-mlv's pre-push hook got no pushed refs: {problem}"])
            return HookOutcome()
        res = sync.pre_push(ws, remote, url, lines)
        if res is None:
            n = sync.data_without_remote(ws, remote, lines)
            if n and _push_fail_ok(ws):  # pushed in silence before: say what is left to do
                return HookOutcome(0, warnings=[
                    f"the pushed commits hold the data of {n} file(s), and no data remote is set up: "
                    "pushing commits anyway (mlv.pushFailOk); add one (`git mlv remote add NAME URL "
                    f"--default`), then {_LATER.removeprefix('run ')}"])
            if n:
                return HookOutcome(1, errors=[
                    f"the pushed commits hold the data of {n} file(s), and no data remote is set "
                    "up to take it, so the push was stopped: a clone would get pointers only",
                    "add one (`git mlv remote add NAME URL --default`, then commit .gitmlv) and push "
                    "again, or set mlv.pushFailOk=true to push commits without their data"])
    except MlvError as e:
        return _failed(ws, str(e))
    if res is None:
        return HookOutcome()
    if res.missing:
        where = "".join(f"; added in {c[:10]} \"{subj}\"" for c, subj in res.missing_in[:1])
        return _failed(ws, f"the data of {len(res.missing)} file(s) is neither here nor on "
                           f"'{res.remote}' (e.g. {res.missing[0][:12]}{where}); fetch it from "
                           "where it is, then push again", res)
    return HookOutcome(0, res)


@dataclass
class AfterCheckout:
    """What the post-checkout / post-merge hook did."""

    scope: str  # "changed": the paths the checkout changed; "all": the whole index; "none"
    examined: int = 0  # worktree paths looked at: follows the change, not the number of tracked files
    restored: int = 0
    fetched: int = 0  # files whose data came from the default remote
    missing: int = 0  # files left as pointers
    out_of_scope: int = 0  # of those, files mlv.fetchInclude/Exclude leaves out (not fetched)
    # the default remote not asked: this git command's filter failed to fetch from it just now
    # (its smudge record says so, docs/formats.md#smudge-record) and has told the user why
    not_retried: bool = False


def _changed_by(ws: Workspace, hook: str, args: list[str]) -> list[str] | None:
    """The paths this checkout or merge changed; None when that is unknown (look at everything).

    post-checkout gets ``<old> <new> <flag>``: flag 0 is a file checkout (``git checkout -- PATH``),
    whose files the filter wrote; old 000... is a clone or a new worktree. post-merge gets
    ``<squash>``: a merge moved HEAD from ORIG_HEAD, a squash merge only changed the index.
    """
    try:
        if hook == "post-merge":
            if args and args[0] == "1":
                return walk.staged_paths(ws.repo)
            orig = walk.resolve_commit(ws.repo, "ORIG_HEAD")
            return None if orig is None else _with_remotes(ws, orig, "HEAD")
        if len(args) < 3:
            return None
        old, new, flag = args[:3]
        if flag == "0" or old == new:
            return []
        if old.strip("0") == "":
            return None
        return _with_remotes(ws, old, new)
    except MlvError:
        return None  # e.g. an old commit git cannot read here: the whole index is the safe answer


def _with_remotes(ws: Workspace, old: str, new: str) -> list[str] | None:
    """The paths changed from ``old`` to ``new``; None (every path) when the data remotes named
    in ``.gitmlv`` changed: files left as pointers before, unchanged now, may be fetched from the
    remote that just arrived (a pull that brings a teammate's `remote add`). Rare, so its cost
    (the whole index) is paid only then."""
    from .remote_config import GITMLV, read_gitmlv_at

    paths = walk.changed_paths(ws.repo, old, new)
    if GITMLV in paths:
        def remotes_at(rev: str) -> dict[str, str]:
            return {k: v for k, v in read_gitmlv_at(ws, rev).items()
                    if k.startswith("remote.") or k == "core.remote"}

        if remotes_at(old) != remotes_at(new):
            return None
    return paths


def after_checkout(ws: Workspace, hook: str = "post-checkout", args: list[str] | None = None
                   ) -> AfterCheckout:
    """Replace pointers the checkout left in the worktree by data that is here now, fetching what
    is missing from the default remote. Only the paths the checkout changed are looked at (a
    clone's first checkout: all of them); files outside a sparse checkout never are, and files out
    of the fetch scope (mlv.fetchInclude/Exclude) are written only when their data is here."""
    if ws.repo.worktree is None:
        return AfterCheckout("none")
    paths = _changed_by(ws, hook, list(args or []))
    done = AfterCheckout("none" if paths == [] else "all" if paths is None else "changed")
    if paths == []:
        return _trace(done, hook)
    try:
        from .remote_config import default_remote_name  # light: sync imports the pool and remotes

        # which remote is asked only when something is missing, except for a whole index, where
        # the oids to fetch are only worth collecting if there is somewhere to fetch them from
        remote = default_remote_name(ws) if paths is None else None
        res = data.checkout_paths(ws, paths, want_missing_oids=paths is not None or remote is not None)
        done.examined, done.restored, done.missing = res.examined, len(res.restored), len(res.missing)
        _warn_outside(res.outside_patterns)
        wanted, done.out_of_scope = (filter_oids(fetch_scope(ws), res.missing_oids)
                                     if res.missing_oids else ({}, 0))
        if wanted and paths is not None:
            remote = default_remote_name(ws)
        if wanted and remote is not None and remote == hookquick.failed_remote(
                ws.repo.git_dir, ws.repo.worktree):
            done.not_retried = True
        elif wanted and remote is not None:
            from . import sync_fetch

            # sizes: each fetched manifest is checked against its pointer's size (issue 8)
            sizes = {o: res.missing_sizes[o] for o in wanted}
            got = sync_fetch.fetch_oids(ws, sizes, sizes=sizes)
            ws.pool.refresh()
            again = data.checkout_paths(ws, [p for o in got for p in wanted.get(o, [])])
            done.fetched = len(again.restored)
            done.restored += len(again.restored)
            done.missing -= len(again.restored)
            res.index_locked |= again.index_locked
        if res.index_locked:
            print(f"git-mlv: warning: {data.INDEX_LOCKED}", file=sys.stderr)
        if paths is None and _first_checkout(hook, list(args or [])) and not done.missing \
                and not res.outside_patterns:
            from . import complete

            complete.record_first_checkout(ws)  # the first fetch then looks at nothing
    except MlvError as e:
        print(f"git-mlv: warning: {e}", file=sys.stderr)
    except ImportError:
        pass
    return _trace(done, hook)


def _first_checkout(hook: str, args: list[str]) -> bool:
    """A clone's or a new worktree's checkout: post-checkout from 000... to a commit."""
    return hook == "post-checkout" and len(args) >= 3 and args[0].strip("0") == "" and args[2] == "1"


_NAMED = 3  # pointers outside the patterns named one a line, then counted


def _warn_outside(paths: list[str]) -> None:
    """Say which committed pointers the checkout left as pointer text because their paths are
    outside every tracked pattern (git wrote them as they are committed), and what to do."""
    if not paths:
        return
    for p in paths[:_NAMED]:
        print(f"git-mlv: warning: {named(p)} is a git-mlv pointer outside every tracked pattern, left as "
              "pointer text", file=sys.stderr)
    if len(paths) > _NAMED:
        print(f"git-mlv: warning: ... and {len(paths) - _NAMED} more such pointer(s)", file=sys.stderr)
    print(f"git-mlv: {data.outside_patterns_hint(paths)}", file=sys.stderr)


def hook_problems(ws: Workspace) -> list[str]:
    """Why our hooks would not run, after putting in place what the filter would put in place
    at its next start (``setup.ensure_hooks``: missing hooks in the repository's own folder).

    A clone whose checkout sent no file through the filter (none of its files is data, or its
    pointers are all outside the tracked patterns) never started the filter, so it has no hooks
    yet; that is not the user's to repair. Left: what only `git mlv install` may change (a
    foreign hook, a ``core.hooksPath`` elsewhere)."""
    from .setup import ensure_hooks
    from .setup import hook_problems as problems_of

    found = problems_of(ws.repo)
    if found and ws.repo.worktree is not None and "filter.mlv.process" in ws.repo.config:
        ensure_hooks(ws.repo)
        found = problems_of(ws.repo)
    return found


def _trace(done: AfterCheckout, hook: str) -> AfterCheckout:
    """With MLV_HOOK_TRACE=FILE, append what the hook did as one JSON line (tests count the work)."""
    hookquick.trace({"hook": hook, **dataclasses.asdict(done)})
    return done
