"""Where the public API reference material lies (beside the repository in CI)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reference_dir() -> Path:
    """The reference folder: $DUNNING_REFERENCE_DIR, or ../shared/reference."""
    given = os.environ.get("DUNNING_REFERENCE_DIR")
    if given:
        return Path(given)
    return ROOT.parent / "shared" / "reference"
