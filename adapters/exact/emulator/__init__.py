"""A local Exact Online over real HTTP, for tests, demos and benchmarks.

state = generate_administration(receivables=300, seed=1)
with serve_emulator(state) as emulator:
    ...  # point the adapter at emulator.base_url
"""

from adapters.exact.emulator.clock import FakeClock, SystemClock
from adapters.exact.emulator.seed import generate_administration
from adapters.exact.emulator.server import RunningEmulator, serve_emulator
from adapters.exact.emulator.state import DEFAULT_CLIENT, EmulatorState

__all__ = [
    "DEFAULT_CLIENT",
    "EmulatorState",
    "FakeClock",
    "RunningEmulator",
    "SystemClock",
    "generate_administration",
    "serve_emulator",
]
