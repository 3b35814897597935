"""What the git hooks do: push data before git pushes commits; fill in late data after checkouts."""

from __future__ import annotations

import sys

from ..errors import MlvError
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


def after_checkout(ws: Workspace) -> None:
    """Replace pointers left in the worktree by data that is here now, fetching what is missing."""
    if ws.repo.worktree is None:
        return
    try:
        res = data.checkout(ws)
        if not res.missing:
            return
        from . import sync

        if sync.default_remote_name(ws) is None:
            return
        st = data.ls_files(ws, paths=None)
        need = {f.oid for f in st if not f.present}
        if need:
            sync.fetch_oids(ws, need)
            ws.pool.refresh()
            data.checkout(ws)
    except MlvError as e:
        print(f"git-mlv: warning: {e}", file=sys.stderr)
    except ImportError:
        pass
