"""Fixtures: the simulator replaying a few symbols of the 1h universe, and a gateway for it
(tests/integration/universe.py).

The simulator and THUNES share one `ManualClock`, so the exchange's "now" (and the ranking's
as-of time) is exactly what the test sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration import universe
from tests.integration.universe import NOW, clock, gateway, sim

__all__ = ["NOW", "SYMBOLS", "clock", "gateway", "sim", "universe_files"]

SYMBOLS = ("BTCUSDT", "ETHUSDT", "DOGEUSDT", "SOLUSDT", "COMPUSDT", "MANAUSDT")


def universe_files(symbols: tuple[str, ...] = SYMBOLS) -> dict[str, Path]:
    return universe.universe_files(symbols)


@pytest.fixture
def universe_symbols() -> tuple[str, ...]:
    return SYMBOLS
