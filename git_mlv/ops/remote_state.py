"""What the default data remote lacks, as `git mlv status` asks it: per file (batch by batch) and
per commit (only the commits not verified on the remote yet). Answers come from the remote's
cached indexes, listed again when older than ``max_age``; offline, the cache answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..core import idarray as ida
from ..core.hashing import EMPTY_OID
from ..errors import MlvError
from ..remotes import pushplan
from ..remotes.base import Remote, RemoteError
from ..remotes.cache import RemoteIndex
from ..remotes.transfer import RetryPolicy
from . import remote_config, verified
from .context import Workspace
from .remote_config import default_remote_name
from .sync import on_remote, open_named, plain_pointers, save_verified

# Status asks once: it answers from the cached listing when the remote cannot be reached, so
# retrying only delays that answer: mlv.remoteRetries (5) made `git mlv status` take 6 s against a
# stopped S3 or SSH server, and 34 s against a stopped Azure endpoint (its client tries 3 times
# itself, ~6 s, and pyarrow cannot change that).
_ONCE = RetryPolicy(attempts=1)


class RemoteLookup:
    """The default remote's cached indexes, asked batch by batch so that memory follows the batch,
    not the repository (600,000 files: a set of every oid held ~250 MB in `git mlv status`).

    The cache is listed again first when older than ``max_age`` seconds (and ``refresh``), so
    `git mlv status` run again and again does not connect every time. Offline, the cache answers;
    a remote that cannot be opened is not compared at all (``name`` is None then). Either way
    ``problem`` says why the remote could not be asked, so that the answer is not taken for fresh.
    """

    def __init__(self, ws: Workspace, refresh: bool = True, max_age: float = 60.0) -> None:
        self.name = default_remote_name(ws)
        self.problem: str | None = None
        self._rindex: RemoteIndex | None = None
        if self.name is None:
            return
        try:
            # None: the default, as named (a missing one's error says which setting names it)
            _, rem, self._rindex = open_named(ws, None, _ONCE)
        except MlvError as e:
            self.problem = f"{e}; not compared with it"
            # nothing was compared: with a name, status ended "Everything is in place (and on
            # remote 'NAME' by that listing)" about a remote it could not even open
            self.name = None
            return
        err = _refresh_quietly(rem, self._rindex, refresh, max_age)
        if err is not None:
            self.problem = f"{err}; {_cache_words(self._rindex.age())}"

    def lacking(self, oids: Iterable[str]) -> set[str]:
        """Which of these files the remote lacks."""
        todo = {o for o in oids if o != EMPTY_OID}
        if self._rindex is None or not todo:
            return set()
        return todo - on_remote(self._rindex, todo)

    def close(self) -> None:
        """Release the cached indexes."""
        if self._rindex is not None:
            self._rindex.close()
            self._rindex = None


def _refresh_quietly(rem: Remote, rindex: RemoteIndex, refresh: bool, max_age: float
                     ) -> str | None:
    """List the remote when the cache is older than ``max_age``; offline, the cache answers (the
    error is returned, for the caller to say)."""
    if refresh and rindex.age() > max_age:
        try:
            rindex.refresh(workers=rem.parallelism)
        except RemoteError as e:
            return str(e)
    return None


def _cache_words(age: float) -> str:
    """How old the answer from a remote's cached listing is, in words."""
    if age == float("inf"):
        return "it was never listed here, so everything counts as not on it"
    for unit, secs in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if age >= secs:
            n = int(age // secs)
            return f"answered from its listing of {n} {unit}{'s' if n > 1 else ''} ago"
    return "answered from its listing of a moment ago"


@dataclass
class UnpushedCommits:
    """Commits of local branches whose data is not (all) on the default data remote."""

    remote: str
    commits: list[tuple[str, str]] = field(default_factory=list)  # (sha, subject), newest first
    files: int = 0  # files whose data the remote lacks
    # of those, files whose data is not in the local pool either (a commit made elsewhere and
    # applied here with `git am`/`cherry-pick`): a push cannot send it and stops
    absent: int = 0
    # the newest commit verified on the remote (ops/verified.py): every pointer of its tree is there
    verified: str | None = None


def _verify_tracking(ws: Workspace, ver: verified.Verified, rindex: RemoteIndex) -> None:
    """With nothing verified on the data remote yet (a clone that never pushed), record the git
    remotes' branches (``refs/remotes/``) when the data remote holds every pointer of their
    history: the walk below then starts from them. Before, a clone with one commit of its own
    walked its whole history twice at every status (8 s at 200,000 files, 3.3 s without that
    commit), and recorded nothing while that commit was not pushed."""
    tracking = ws.repo.git_text("for-each-ref", "--format=%(objectname)", "refs/remotes/").split()
    if not tracking:
        return
    old = verified.pointers_since(ws, list(dict.fromkeys(tracking)), [], here_only=True)
    ids = old.ids[old.ids != ida.EMPTY]
    if not old.skipped and bool(pushplan.on_remote_mask(rindex, ids).all()):
        save_verified(ws, ver, tracking, rindex.packs())


def commits_not_on_remote(ws: Workspace, refresh: bool = True, max_age: float = 60.0
                          ) -> UnpushedCommits | None:
    """Local commits whose data the default remote lacks (None without a default remote, or
    when it could not be listed and never was: then nothing is known about it).

    Cheap: walks only the commits not verified on the remote yet (ops/verified.py) and answers from
    its cached indexes (listed again when older than ``max_age``); a walk that finds everything
    there records the branch tips as verified, so the next status starts from them.
    """
    name = default_remote_name(ws)
    if name is None or name not in remote_config.remotes(ws):
        return None
    tips = ws.repo.git_text("for-each-ref", "--format=%(objectname)", "refs/heads/").split()
    head = ws.repo.git_text("rev-parse", "--verify", "-q", "HEAD", check=False)
    tips = list(dict.fromkeys(tips + ([head] if head else [])))
    rc, rem, rindex = open_named(ws, name, _ONCE)
    try:
        _refresh_quietly(rem, rindex, refresh, max_age)
        if rindex.age() == float("inf"):
            # never listed here (a clone without credentials, a server down since the clone): an
            # empty cache would name every commit as unpushed and advise a push; nothing is known
            return None
        ver = verified.Verified.load(remote_config.cache_dir(ws, rc.name), rem.url)
        if not ver.still_valid(rindex.packs()):
            ver.reset()
        if not ver.commits:
            _verify_tracking(ws, ver, rindex)
        # a partial clone's pointers it never fetched are left out, not fetched one by one
        new = verified.pointers_since(ws, tips, ver.commits, here_only=True, blobs=True)
        ids = new.ids[new.ids != ida.EMPTY]
        lacking = ids[~pushplan.on_remote_mask(rindex, ids)]
        if len(lacking):
            from .data import present_oids

            absent = set(ida.hexes(lacking)) - present_oids(ws.pool, ida.hexes(lacking))
            if absent:  # pointer text outside the patterns is a plain file, as for a push
                paths = verified.paths_pointing_to(ws, tips, ver.commits, absent)
                plain = plain_pointers(ws, {o: paths.get(o, []) for o in absent})
                lacking = lacking[~np.isin(lacking, ida.ids_of(plain))] if plain else lacking
                absent -= plain
        out = UnpushedCommits(rc.name, files=len(lacking), verified=ver.commits[0] if ver.commits else None)
        if len(lacking):
            out.absent = len(absent)
        if not len(lacking):
            if tips and not new.skipped:  # what was left out is not verified (a push checks it)
                save_verified(ws, ver, tips, rindex.packs())
            return out
        out.commits = verified.commits_adding(ws, tips, ver.commits, new.blobs_of(lacking))
        return out
    finally:
        rindex.close()
        rem.close()
