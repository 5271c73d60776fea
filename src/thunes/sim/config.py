"""Settings of one simulated exchange: which klines it replays, whose clock it runs on, the account.

The simulator's "now" is `clock.time()` (plus any injected skew). Bars exist only once closed at
that now, except the single bar in progress, which REST and streams show in its partial state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from thunes.clock import Clock, SimClock
from thunes.market.klines import sample_path
from thunes.sim.replay import load_replay

DEFAULT_SAMPLES = {
    "BTCUSDT": "BTCUSDT-5m-2023Q1.csv.gz",
    "ETHUSDT": "ETHUSDT-5m-2023Q1.csv.gz",
}
# Enough closed bars before "now" for a 1h strategy with a few hundred bars of warm-up.
DEFAULT_WARMUP_SECONDS = 30 * 24 * 3600


def default_data() -> dict[str, Path]:
    """The bundled 5-minute samples, symbol → file."""
    return {symbol: sample_path(name) for symbol, name in DEFAULT_SAMPLES.items()}


def default_balances() -> dict[str, Decimal]:
    return {"USDT": Decimal("10000")}


def replay_clock(
    data: dict[str, Path] | None = None,
    speed: float = 60.0,
    warmup_seconds: float = DEFAULT_WARMUP_SECONDS,
) -> SimClock:
    """A SimClock starting `warmup_seconds` after the first bar of the replayed data."""
    files = data or default_data()
    start = max(load_replay(s, p).first_open_ms / 1000 for s, p in files.items()) + warmup_seconds
    return SimClock(start=start, speed=speed)


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything a `Simulator` needs; the defaults give a working exchange on a fresh clone."""

    data: dict[str, Path] = field(default_factory=default_data)
    clock: Clock | None = None
    fee_rate: Decimal = Decimal("0.001")
    api_key: str = "sim-key"
    api_secret: str = "sim-secret"
    balances: dict[str, Decimal] = field(default_factory=default_balances)
    weight_limit: int = 6000
    order_limit_10s: int = 100
    snapshot_path: Path | None = None
    stream_interval: float = 0.1
    ws_ping_interval: float = 20.0
    ban_after_429s: int = 3
    # Fill every taker whole at the best price and every reached resting order whole (the
    # simple model, for tests comparing with a backtest); off, orders walk the book.
    best_price_fills: bool = False
    # Milliseconds the replay is moved later in time (`wall_clock`: exchange time is now).
    shift_ms: int = 0

    def resolved_clock(self) -> Clock:
        """The configured clock, or a 60× replay clock after a 30-day warm-up."""
        return self.clock if self.clock is not None else replay_clock(self.data)
