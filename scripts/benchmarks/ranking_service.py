"""Scheduled-ranking benchmark: one run over the simulator serving the 22-symbol 1h universe,
end to end as the daemon's job does it (lock, run row, exchangeInfo and klines over HTTP, scoring
in a worker thread, ranking persisted to SQLite, lock released). Target < 2 s.

The simulator's start-up (loading 22 kline files) is set-up, reported apart. The first run is
reported as it is (cold caches); then the best of a few, as the machine is shared.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from _common import UNIVERSE, sim_gateway

from thunes.clock import ManualClock
from thunes.ranking.lock import RankingLock
from thunes.ranking.service import RankingConfig, RankingService, gateway_fetch
from thunes.ranking.types import RankingRun
from thunes.sim import Simulator, SimulatorConfig
from thunes.store import Store
from thunes.store.rankings import RankingStore

NOW = datetime(2021, 5, 1, 0, 30, tzinfo=UTC)
TARGET_S = 2.0
REPEATS = 3


async def _runs(files: dict[str, Path], db: Path) -> tuple[float, list[tuple[float, RankingRun]]]:
    clock = ManualClock(NOW.timestamp())
    started = time.perf_counter()
    config = SimulatorConfig(data=files, clock=clock, stream_interval=3600)
    async with Simulator(config, wire_clock=clock) as sim:
        setup = time.perf_counter() - started
        gateway = sim_gateway(sim, clock)
        store = Store.open(db)
        try:
            rankings = RankingStore.of(store)
            ranking = RankingConfig(timeframes=("1h",), min_quote_volume=Decimal("10000000"))
            service = RankingService(
                rankings, gateway_fetch(gateway, ranking), ranking, clock,
                RankingLock(rankings, clock),
            )  # fmt: skip
            await gateway.sync_time()
            results = []
            for _ in range(1 + REPEATS):
                begun = time.perf_counter()
                run = await service.run("1h")
                results.append((time.perf_counter() - begun, run))
                clock.advance(15 * 60)  # the next cadence point
        finally:
            store.close()
            await gateway.close()
    return setup, results


def run() -> list[tuple[str, str]]:
    if not UNIVERSE.is_dir():
        return [("scheduled ranking, 22 symbols", f"universe not found at {UNIVERSE}")]
    files = {p.name.split("_")[0]: p for p in sorted(UNIVERSE.glob("*USDT_1h.csv"))}
    with tempfile.TemporaryDirectory() as tmp:
        setup, results = asyncio.run(_runs(files, Path(tmp) / "thunes.db"))
    first, run0 = results[0]
    best = min(seconds for seconds, _ in results[1:])
    verdict = "ok" if max(first, best) < TARGET_S else "OVER TARGET"
    return [
        (f"scheduled ranking of {len(files)} symbols over the simulator: first run "
         f"(target < {TARGET_S:g} s)", f"{first:.3f} s {verdict}"),
        (f"scheduled ranking: best of {REPEATS} more runs", f"{best:.3f} s"),
        ("scheduled ranking: status / ranked / skipped / requests / peak weight",
         f"{run0.status.value} / {run0.ranked_count} / {run0.failed_count} / {run0.requests} / "
         f"{run0.peak_weight}"),
        ("simulator start-up with the 22 files (set-up, not counted)", f"{setup:.2f} s"),
    ]  # fmt: skip
