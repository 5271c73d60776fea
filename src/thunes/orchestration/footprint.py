"""Keeps the `sim` daemon's idle footprint small: the embedded exchange's tick rate and the
memory its start-up leaves behind.

Between checks the daemon should cost well under 1 % of a core. In `sim` mode most of that is
the embedded exchange's stream publisher; ten ticks a real second make sense for fast replays
but at speeds near real time they publish several updates per simulated second for nothing.
Loading the replayed klines parses the CSV as text, and the freed parse buffers stay in the
C heap unless handed back, inflating the idle daemon's RSS by tens of MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)

FASTEST_TICK_S = 0.1
SLOWEST_TICK_S = 1.0


def stream_interval(speed: float) -> float:
    """Real seconds between the embedded exchange's stream ticks: at most one per simulated
    second, at least one per real second, and never more than ten per real second."""
    return min(SLOWEST_TICK_S, max(FASTEST_TICK_S, 1.0 / speed))


def release_free_memory() -> bool:
    """Return the C heap's free pages to the OS (glibc's `malloc_trim`); False elsewhere."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return bool(trim(0))
