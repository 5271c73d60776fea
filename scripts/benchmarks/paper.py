"""Paper exchange: a market order's round trip (the source's /depth, /avgPrice and trades read,
the walk, the wallet written) and a relayed public request, against an in-process simulator
playing the source on the same event loop (a floor: a real source adds its network latency)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from binance import AsyncClient

from thunes.clock import ManualClock
from thunes.paper import PaperConfig, PaperExchange
from thunes.sim import Simulator, SimulatorConfig, replay_clock

ORDERS = 100
READS = 200


async def _measure() -> list[tuple[str, str]]:
    source_config = SimulatorConfig(
        clock=ManualClock(replay_clock(speed=1).time()), weight_limit=10**9, stream_interval=3600
    )
    with tempfile.TemporaryDirectory() as tmp:
        async with Simulator(source_config) as source:
            config = PaperConfig(
                source_url=source.base_url, wallet=Decimal(10**9), poll_seconds=0,
                snapshot_path=Path(tmp) / "paper_wallet.json",
            )
            async with PaperExchange(config) as paper:

                class Client(AsyncClient):
                    API_URL = paper.api_url

                client = Client(paper.config.api_key, paper.config.api_secret)
                try:
                    started = time.perf_counter()
                    for _ in range(ORDERS):
                        await client.create_order(
                            symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="50"
                        )
                    order_ms = (time.perf_counter() - started) * 1000 / ORDERS
                    started = time.perf_counter()
                    for _ in range(READS):
                        await client.get_klines(symbol="BTCUSDT", interval="1h", limit=100)
                    relay_ms = (time.perf_counter() - started) * 1000 / READS
                finally:
                    await client.close_connection()
    return [
        ("paper market order round trip (local source)", f"{order_ms:.1f} ms"),
        ("paper relayed klines request, 100 bars (local source)", f"{relay_ms:.1f} ms"),
    ]


def run() -> list[tuple[str, str]]:
    return asyncio.run(_measure())
