"""THUNES sim: a Binance-compatible spot exchange on 127.0.0.1, replaying historical klines.

sim = Simulator(SimulatorConfig(clock=SimClock(start=..., speed=60)))
await sim.start()            # sim.api_url → python-binance API_URL, sim.ws_url → streams
sim.faults.fail_next(2, status=503)
await sim.stop()
"""

from thunes.sim.config import SimulatorConfig, default_data, replay_clock
from thunes.sim.exchange import Exchange
from thunes.sim.faults import FaultInjector
from thunes.sim.orders import SimError
from thunes.sim.server import Simulator

__all__ = [
    "Exchange",
    "FaultInjector",
    "SimError",
    "Simulator",
    "SimulatorConfig",
    "default_data",
    "replay_clock",
]
