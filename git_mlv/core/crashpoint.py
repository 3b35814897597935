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
RESUME_FILE_ENV = "GIT_MLV_TEST_RESUME"
PAUSE_SECONDS = 60.0


def crashpoint(name: str) -> None:
    """SIGKILL this process when the environment names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def pausepoint(name: str) -> None:
    """Sleep ``PAUSE_SECONDS`` here when the environment names this point, first creating the
    file ``GIT_MLV_TEST_PAUSED`` names (if set): a test that waits for that file then signals a
    process known to be at this point (a sleep is where Ctrl-C usually finds a waiting command).
    With ``GIT_MLV_TEST_RESUME`` set, go on as soon as the file it names exists (a test that runs
    another command while this one is held there; every later pass goes straight through)."""
    if os.environ.get(PAUSE_ENV) == name:
        import time

        marker = os.environ.get(PAUSED_FILE_ENV)
        if marker:
            with open(marker, "w"):
                pass
        resume = os.environ.get(RESUME_FILE_ENV)
        if not resume:
            time.sleep(PAUSE_SECONDS)
            return
        deadline = time.monotonic() + PAUSE_SECONDS
        while not os.path.exists(resume) and time.monotonic() < deadline:
            time.sleep(0.01)
