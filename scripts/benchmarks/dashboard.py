"""Dashboard benchmark: request time of the overview page and the busiest API reads over real
HTTP on 127.0.0.1, on a state database with 2,000 closed trades (each with its sell fill) and
3 open positions. Each figure is the best of 20 requests after a warm-up (the machine is shared).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp

from thunes.clock import ManualClock
from thunes.domain import ExitReason, Fill, Position, Side
from thunes.store import Store, db_path
from thunes.trading.risk import RiskLimits, RiskManager
from thunes.web import DashboardServer, DashboardSources

TOKEN = "bench-token"
CLOSED = 2_000
REPEATS = 20
START = datetime(2023, 1, 1, tzinfo=UTC)


def seed(store: Store) -> None:
    for i in range(CLOSED):
        symbol = ("BTCUSDT", "ETHUSDT", "BNBUSDT")[i % 3]
        opened = START + timedelta(hours=i)
        store.save_position(Position(symbol, Decimal("0.01"), Decimal("1000"), opened,
                                     entry_fees_quote=Decimal("0.01")))
        closed = opened + timedelta(minutes=30)
        pnl = Decimal(i % 7 - 3) / 4
        store.add_fills([Fill(symbol, Side.SELL, Decimal("1000") + pnl * 100, Decimal("0.01"),
                              Decimal("0.01"), "USDT", i, f"th-s-{i}", closed)])
        store.close_position(symbol, closed_at=closed, realized_pnl=pnl,
                             exit_reason=ExitReason.SIGNAL)
    for symbol in ("BTCUSDT", "ETHUSDT", "BNBUSDT"):
        store.save_position(Position(symbol, Decimal("0.01"), Decimal("1000"),
                                     START + timedelta(hours=CLOSED)))


async def best_ms(client: aiohttp.ClientSession, url: str) -> float:
    async with client.get(url) as answer:
        await answer.read()
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        async with client.get(url) as answer:
            await answer.read()
            assert answer.status == 200, url
        best = min(best, time.perf_counter() - start)
    return best * 1000


async def measure(store: Store) -> list[tuple[str, str]]:
    clock = ManualClock((START + timedelta(hours=CLOSED + 1)).timestamp())
    risk = RiskManager(RiskLimits(Decimal(20), 3, timedelta(0)), store, clock)

    async def force_exit(symbol: str) -> str:
        return symbol

    sources = DashboardSources(
        store=store, risk=risk, clock=clock, force_exit=force_exit, mode="sim", version="bench",
        daily_loss_limit=Decimal(20), stop_loss_pct=Decimal("0.03"),
        prices=lambda: {"BTCUSDT": Decimal("1010")},
    )
    server = DashboardServer(sources, TOKEN)
    await server.start()
    rows = []
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            async with client.post(f"{server.url}/api/v1/session", json={"token": TOKEN}):
                pass
            for label, path in (
                ("overview page (equity SVG of 2,000 trades)", "/"),
                ("trades page (50 trades, 50 orders)", "/trades"),
                ("GET /api/v1/status", "/api/v1/status"),
                ("GET /api/v1/trades?limit=500", "/api/v1/trades?limit=500"),
                ("GET /api/v1/equity (2,000 points)", "/api/v1/equity"),
            ):
                ms = await best_ms(client, server.url + path)
                rows.append((f"dashboard: {label}", f"{ms:.1f} ms"))
    finally:
        await server.stop()
    return rows


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, Store.open(db_path(Path(tmp))) as store:
        seed(store)
        return asyncio.run(measure(store))


if __name__ == "__main__":
    for name, value in run():
        print(f"{name:<60} {value}")
