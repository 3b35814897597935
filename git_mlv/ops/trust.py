"""Trust in tracked remote URLs: ``.gitmlv`` is tracked, so whoever commits to it chooses where data goes.

Rules (docs/remotes.md "Trust in .gitmlv"):

- The tracked URL this clone accepted is remembered in ``.git/config`` as
  ``mlv-remote.NAME.trustedUrl``: by ``remote add``/``remote modify NAME url`` (the user chose it),
  by ``remote trust NAME``, and on first use (a clone's first fetch or push: trust on first use,
  announced on stderr so the user sees which data remote a clone reads).
- A URL set in ``.git/config`` (``mlv-remote.NAME.url``) is the user's own choice: always trusted.
- When ``.gitmlv`` names another URL than the remembered one, fetch still reads from it
  (everything fetched is verified against its sha256, so a hostile remote can withhold data but
  never change a byte) and says so; push refuses until ``git mlv remote trust NAME``.
"""

from __future__ import annotations

import sys
import threading

from ..errors import MlvError
from ..remotes.url import same_place
from .context import Workspace
from .remote_config import RemoteConfig, get, remember_url


class UntrustedRemote(MlvError):
    """The tracked URL of a data remote changed since this clone last accepted it."""

    exit_code = 7


_announced: set[tuple[str, str]] = set()
_lock = threading.Lock()


def changed(rc: RemoteConfig) -> bool:
    """True when ``.gitmlv`` names another URL than the one this clone accepted."""
    return rc.url_from_tracked and rc.trusted_url is not None and not same_place(rc.trusted_url, rc.url)


def _first_use(ws: Workspace, rc: RemoteConfig) -> bool:
    """Remember a tracked URL never accepted before; True if this call did."""
    if not rc.url_from_tracked or rc.trusted_url is not None:
        return False
    try:
        remember_url(ws, rc.name, rc.url)
    except MlvError:
        return False  # a read-only .git/config: ask again next time
    rc.trusted_url = rc.url
    return True


def for_push(ws: Workspace, rc: RemoteConfig) -> str | None:
    """Check that push may write to ``rc``; raises UntrustedRemote. Returns a note on first use."""
    if changed(rc):
        raise UntrustedRemote(
            f"data remote '{rc.name}': .gitmlv now says {rc.url}, but this clone last used "
            f"{rc.trusted_url}; not pushing data there. If the change is expected, run "
            f"`git mlv remote trust {rc.name}`; to keep the old place, run "
            f"`git config mlv-remote.{rc.name}.url {rc.trusted_url}`")
    if _first_use(ws, rc):
        return f"git-mlv: data remote '{rc.name}' is {rc.url} (from .gitmlv); remembered as trusted"
    return None


def for_fetch(ws: Workspace, rc: RemoteConfig) -> str | None:
    """A note for the user when fetch reads from a tracked URL not (yet) accepted; once per process."""
    if changed(rc):
        note = (f"git-mlv: note: data remote '{rc.name}' is now {rc.url} in .gitmlv (this clone used "
                f"{rc.trusted_url}); reading from it (all data is verified), but `git push` will not "
                f"upload there until you run `git mlv remote trust {rc.name}`")
    elif _first_use(ws, rc):
        note = f"git-mlv: reading data from '{rc.name}' at {rc.url} (from .gitmlv)"
    else:
        return None
    with _lock:
        if (rc.name, rc.url) in _announced:
            return None
        _announced.add((rc.name, rc.url))
    return note


def announce(note: str | None) -> None:
    """Print a trust note on stderr at once: the filter's background fetch has no other way to
    reach the user, and a note that comes late (or never) defeats its purpose."""
    if note:
        print(note, file=sys.stderr)


def trust(ws: Workspace, name: str) -> RemoteConfig:
    """Accept the URL ``.gitmlv`` now names for remote ``name``."""
    rc = get(ws, name)
    remember_url(ws, rc.name, rc.url)
    rc.trusted_url = rc.url
    return rc
