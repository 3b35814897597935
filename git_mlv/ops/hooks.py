"""What the git hooks do: push data before git pushes commits; fill in late data after checkouts."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass

from ..errors import MlvError
from ..gitio import walk
from . import data
from .context import Workspace


def pre_push(ws: Workspace, remote: str, url: str, lines: list[str]) -> int:
    """Upload the data the pushed commits need; non-zero (git refuses the push) if that fails."""
    try:
        from . import sync
    except ImportError:
        return 0
    try:
        sync.pre_push(ws, remote, url, lines)
    except MlvError as e:
        if ws.repo.config.get("mlv.pushfailok", "false").lower() in ("true", "1", "yes", "on"):
            print(f"git-mlv: warning: data not pushed ({e}); pushing commits anyway "
                  "(mlv.pushFailOk)", file=sys.stderr)
            return 0
        print(f"git-mlv: error: data upload failed, so the push was stopped: {e}\n"
              "git-mlv: fix the problem and push again, or set mlv.pushFailOk=true to push commits "
              "without their data", file=sys.stderr)
        return 1
    return 0


@dataclass
class AfterCheckout:
    """What the post-checkout / post-merge hook did."""

    scope: str  # "changed": the paths the checkout changed; "all": the whole index; "none"
    examined: int = 0  # worktree paths looked at: follows the change, not the number of tracked files
    restored: int = 0
    fetched: int = 0  # files whose data came from the default remote
    missing: int = 0  # files left as pointers


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
            return None if orig is None else walk.changed_paths(ws.repo, orig, "HEAD")
        if len(args) < 3:
            return None
        old, new, flag = args[:3]
        if flag == "0" or old == new:
            return []
        if old.strip("0") == "":
            return None
        return walk.changed_paths(ws.repo, old, new)
    except MlvError:
        return None  # e.g. an old commit git cannot read here: the whole index is the safe answer


def after_checkout(ws: Workspace, hook: str = "post-checkout", args: list[str] | None = None
                   ) -> AfterCheckout:
    """Replace pointers the checkout left in the worktree by data that is here now, fetching what
    is missing from the default remote. Only the paths the checkout changed are looked at (a
    clone's first checkout: all of them); files outside a sparse checkout never are."""
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
        if res.missing_oids and paths is not None:
            remote = default_remote_name(ws)
        if res.missing_oids and remote is not None:
            from . import sync

            got = sync.fetch_oids(ws, set(res.missing_oids))
            ws.pool.refresh()
            again = data.checkout_paths(ws, [p for o in got for p in res.missing_oids.get(o, [])])
            done.fetched = len(again.restored)
            done.restored += len(again.restored)
            done.missing -= len(again.restored)
    except MlvError as e:
        print(f"git-mlv: warning: {e}", file=sys.stderr)
    except ImportError:
        pass
    return _trace(done, hook)


def _trace(done: AfterCheckout, hook: str) -> AfterCheckout:
    """With MLV_HOOK_TRACE=FILE, append what the hook did as one JSON line (tests count the work)."""
    path = os.environ.get("MLV_HOOK_TRACE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"hook": hook, **dataclasses.asdict(done)}) + "\n")
    return done
