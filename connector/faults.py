"""Crash points: places where a test can make the process die on purpose.

Set ``DUNNING_CRASH_AT`` to a point's name and the process kills itself with
SIGKILL when it reaches that point, exactly as an operator's ``kill -9`` or a power
cut would. Nothing happens when the variable is unset.
"""

from __future__ import annotations

import os
import signal

CRASH_VARIABLE = "DUNNING_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here if the environment asks for it."""
    if os.environ.get(CRASH_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
