"""Named points where the test suite can have this process killed (``kill -9``), to prove that a
crash there leaves a readable pool or remote (as git's GIT_TEST_* knobs do).

Set ``GIT_MLV_TEST_CRASH_AT=<name>`` in a child's environment; the hermetic test environment
scrubs ``GIT_*`` variables, so a user's shell never triggers it by accident.
"""

from __future__ import annotations

import os
import signal

ENV = "GIT_MLV_TEST_CRASH_AT"


def crashpoint(name: str) -> None:
    """SIGKILL this process when the environment names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
