"""Fixtures: the dashboard server on 127.0.0.1 over a real store, risk manager and audit trail.

Live facts (prices, `/health`) and the force-exit path are hand-written stubs; the login
throttle and sessions run on a manual monotonic clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from thunes.clock import ManualClock
from thunes.domain import ExitReason, Fill, Position, Side
from thunes.store import AuditTrail, Store, db_path
from thunes.trading.risk import RiskLimits, RiskManager
from thunes.web import DashboardServer, DashboardSources

TOKEN = "web-TOKEN-7f3a9c"
API_KEY = "binance-KEY-51d2e8"
API_SECRET = "binance-SECRET-0b4c77"
TELEGRAM_TOKEN = "123456:telegram-TOKEN-aa91"
SECRETS = (TOKEN, API_KEY, API_SECRET, TELEGRAM_TOKEN)
NOW = datetime(2023, 2, 1, 20, 0, tzinfo=UTC)
MARK = Decimal("23500")


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ForceExits:
    calls: list[str] = field(default_factory=list)

    async def __call__(self, symbol: str) -> str:
        self.calls.append(symbol)
        return f"{symbol}: sold (force-exit)."


@dataclass
class Rig:
    server: DashboardServer
    store: Store
    clock: ManualClock
    ticks: Ticks
    force_exits: ForceExits
    audit_path: Path
    health: dict[str, Any]

    @property
    def url(self) -> str:
        return self.server.url


def health_report() -> dict[str, Any]:
    """A `/health` body; the account stream's error carries the Telegram token on purpose."""
    return {
        "status": "unhealthy",
        "unhealthy": ["account_stream"],
        "components": {
            "scheduler": {"ok": True, "detail": {"daemon": "running", "jobs": {}}},
            "breakers": {"ok": True, "detail": {"open": {"orders": False, "market_data": False}}},
            "account_stream": {"ok": False, "detail": {
                "reason": f"refused by https://api.telegram.org/bot{TELEGRAM_TOKEN}/x"}},
        },
    }


def seed(store: Store) -> None:
    """Two closed trades (one win, one loss) and one open position."""
    opened = NOW - timedelta(hours=3)
    for i, (symbol, pnl) in enumerate((("ETHUSDT", "4.5"), ("BTCUSDT", "-1.25"))):
        entry = Decimal("1500") if symbol == "ETHUSDT" else Decimal("23000")
        qty = Decimal("0.01") if symbol == "ETHUSDT" else Decimal("0.001")
        store.save_position(Position(symbol, qty, entry, opened + timedelta(minutes=i),
                                     entry_fees_quote=Decimal("0.02")))
        closed_at = opened + timedelta(hours=1, minutes=i)
        store.add_fills([Fill(symbol, Side.SELL, entry + Decimal(pnl) / qty, qty,
                              Decimal("0.01"), "USDT", 100 + i, f"th-s-{i}", closed_at)])
        store.close_position(symbol, closed_at=closed_at, realized_pnl=Decimal(pnl),
                             exit_reason=ExitReason.SIGNAL)
    store.save_position(Position("BTCUSDT", Decimal("0.002"), Decimal("23000"), opened,
                                 entry_fees_quote=Decimal("0.046")))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(db_path(tmp_path / "state")) as opened:
        yield opened


async def start_rig(tmp_path: Path, store: Store, token: str = TOKEN) -> Rig:
    clock = ManualClock(NOW.timestamp())
    audit_path = tmp_path / "audit_trail.jsonl"
    audit = AuditTrail(audit_path, clock, SECRETS)
    risk = RiskManager(RiskLimits(Decimal("20"), 3, timedelta(minutes=60)), store, clock,
                       audit=audit)
    health = health_report()
    force_exits = ForceExits()
    sources = DashboardSources(
        store=store, risk=risk, clock=clock, force_exit=force_exits, mode="sim",
        version="test", daily_loss_limit=Decimal("20"), stop_loss_pct=Decimal("0.03"),
        secrets=SECRETS, prices=lambda: {"BTCUSDT": MARK}, health=lambda: health,
        audit=audit,
    )
    ticks = Ticks()
    server = DashboardServer(sources, token, "127.0.0.1", 0, clock=ticks)
    await server.start()
    return Rig(server, store, clock, ticks, force_exits, audit_path, health)


@pytest.fixture
async def rig(tmp_path: Path, store: Store) -> AsyncIterator[Rig]:
    seed(store)
    started = await start_rig(tmp_path, store)
    try:
        yield started
    finally:
        await started.server.stop()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that keeps cookies for 127.0.0.1 (aiohttp's default jar refuses IP hosts)."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield session


async def api_login(client: aiohttp.ClientSession, url: str, token: str = TOKEN) -> str:
    """Log in over the API; returns the CSRF token."""
    async with client.post(f"{url}/api/v1/session", json={"token": token}) as answer:
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    return str(body["csrf"])
