"""A trading rig over the simulator: a scripted strategy and the real gateway, store and clock.

Used by the acceptance tests of the order path: each test says ENTER, EXIT or HOLD on demand and
runs the real pipeline (real RiskManager, real Store, real BinanceGateway) against the
simulator, stepping the market clock by hand. The fixtures (`clock`, `sim`, `gateway`,
`store`) are in this folder's conftest.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import numpy as np

from thunes.domain import Action
from thunes.sim import Simulator
from thunes.strategy.base import Bars, ParamRange, Strategy


class Scripted(Strategy):
    """Says whatever `say` is on every bar; the stop-loss fraction is set by the test."""

    name: ClassVar[str] = "scripted"
    defaults: ClassVar[dict[str, int]] = {}
    param_space: ClassVar[dict[str, ParamRange]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.say = Action.HOLD
        self.stop: float | None = None

    @property
    def warmup_bars(self) -> int:
        return 1

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        n = len(bars.close)
        entries = np.full(n, self.say is Action.ENTER)
        exits = np.full(n, self.say is Action.EXIT)
        return entries, exits, self.stop


def held(sim: Simulator, asset: str) -> Decimal:
    balance = sim.exchange.balance(asset)
    return balance.free + balance.locked
