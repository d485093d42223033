"""A local Moneybird over real HTTP, for tests, demos and benchmarks."""

from adapters.moneybird.emulator.control import Control, RateLimiter, RecordedRequest
from adapters.moneybird.emulator.data import OPEN_STATES, Administration
from adapters.moneybird.emulator.seed import generate_administration
from adapters.moneybird.emulator.server import RunningEmulator, serve_emulator

__all__ = [
    "OPEN_STATES",
    "Administration",
    "Control",
    "RateLimiter",
    "RecordedRequest",
    "RunningEmulator",
    "generate_administration",
    "serve_emulator",
]
