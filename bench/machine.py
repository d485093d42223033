"""What machine a benchmark ran on, for the lines recorded in RESULTS.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe_machine() -> str:
    """CPU model, architecture, core count and Python version."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {platform.machine()}, {os.cpu_count()} cores;"
        f" Python {platform.python_version()}"
    )
