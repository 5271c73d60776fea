"""THUNES sim: a Binance-compatible spot exchange on 127.0.0.1, replaying historical klines.

    sim = Simulator(SimulatorConfig(clock=replay_clock(speed=60)))
    await sim.start()                 # port 0 → ephemeral; see sim.port
    class Client(AsyncClient):        # python-binance, unchanged
        API_URL = sim.api_url
    sim.faults.fail_next(2, status=503)
    await sim.stop()

- Time: market data lives on `config.clock` (SimClock/ManualClock) plus injected skew; a bar
  exists once it has opened, and the bar in progress is shown in its partial state. Signed
  requests are accepted if their timestamp fits recvWindow against either the wall clock or the
  simulated clock (clients stamped either way work), so python-binance runs as is.
- Streams: `/ws/<stream>`, `/stream?streams=a/b`, SUBSCRIBE on `/ws`; `await sim.publish_tick()`
  pushes every subscribed stream at once for deterministic tests.
- Faults: `sim.faults` (see FaultInjector) or `POST /sim/faults {"fault": "fail_next", "n": 2}`;
  `GET /sim/state` shows the account, prices and simulated now.
- State: in memory; with `config.snapshot_path` every change is written there and a new
  Simulator on the same path continues the same account.
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
