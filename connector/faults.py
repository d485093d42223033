"""Crash points: places where a test can make the process die on purpose.

Set ``DUNNING_CRASH_AT`` to a point's name and the process kills itself with
SIGKILL when it reaches that point, exactly as an operator's ``kill -9`` or a power
cut would. Nothing happens when the variable is unset. At DEBUG level each point
passed is logged (``crash_point_passed``), so a kill test can tell which phase a
process was in when it died.
"""

from __future__ import annotations

import os
import signal

import structlog

CRASH_VARIABLE = "DUNNING_CRASH_AT"
log = structlog.get_logger("dunning.faults")


def crash_point(name: str) -> None:
    """Die here if the environment asks for it."""
    log.debug("crash_point_passed", point=name)
    if os.environ.get(CRASH_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
