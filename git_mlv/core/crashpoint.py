"""Named points where the test suite can have this process killed (``kill -9``), to prove that a
crash there leaves a readable pool or remote (as git's GIT_TEST_* knobs do), or held still, so
that a signal reaches it at that point whatever the machine's speed.

Set ``GIT_MLV_TEST_CRASH_AT=<name>`` (or ``GIT_MLV_TEST_PAUSE_AT=<name>``) in a child's
environment; the hermetic test environment scrubs ``GIT_*`` variables, so a user's shell never
triggers it by accident.
"""

from __future__ import annotations

import os
import signal

ENV = "GIT_MLV_TEST_CRASH_AT"
PAUSE_ENV = "GIT_MLV_TEST_PAUSE_AT"
PAUSED_FILE_ENV = "GIT_MLV_TEST_PAUSED"
PAUSE_SECONDS = 60.0


def crashpoint(name: str) -> None:
    """SIGKILL this process when the environment names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def pausepoint(name: str) -> None:
    """Sleep ``PAUSE_SECONDS`` here when the environment names this point, first creating the
    file ``GIT_MLV_TEST_PAUSED`` names (if set): a test that waits for that file then signals a
    process known to be at this point (a sleep is where Ctrl-C usually finds a waiting command)."""
    if os.environ.get(PAUSE_ENV) == name:
        import time

        marker = os.environ.get(PAUSED_FILE_ENV)
        if marker:
            with open(marker, "w"):
                pass
        time.sleep(PAUSE_SECONDS)
