"""A 418 ban survives a daemon restart: the second gateway, over the same state database, sends
nothing until the ban's end, then trades normally (issue 12, item 12)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.integration.exchange.conftest import RequestLog
from thunes.app.ban_store import KvBanStore, ban_key
from thunes.clock import ManualClock
from thunes.config import Mode
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.exchange.types import BannedError
from thunes.sim import Simulator
from thunes.store import Store, db_path


def gateway_over(sim: Simulator, clock: ManualClock, store: Store) -> BinanceGateway:
    """What the composition root builds at each start, minus the rest of the daemon."""
    client = make_client("sim-key", "sim-secret", api_url=sim.api_url, request_timeout=2.0)
    return BinanceGateway(
        client,
        clock,
        RateLimiter(clock, ban_store=KvBanStore(store, Mode.SIM)),
        CircuitBreakerMonitor(clock),
        TimeSync(clock, samples=1),
        RetryPolicy(base=0.5, cap=4.0, attempts=2, sleep=clock.sleep, rng=random.Random(7)),
    )


async def test_a_418_ban_survives_a_restart(
    sim: Simulator, clock: ManualClock, tmp_path: Path
) -> None:
    store = Store.open(db_path(tmp_path))
    try:
        first = gateway_over(sim, clock, store)
        sim.faults.ban(retry_after=600)
        with pytest.raises(BannedError):
            await first.price("BTCUSDT")
        await first.close()
        assert store.kv_get(ban_key(Mode.SIM))

        restarted = gateway_over(sim, clock, store)
        wire = RequestLog(restarted.client)
        with pytest.raises(BannedError):
            await restarted.price("BTCUSDT")
        assert wire.paths == []  # refused before anything went on the wire
        clock.advance(601)
        assert await restarted.price("BTCUSDT") > 0
        assert wire.statuses == [200]
        assert not store.kv_get(ban_key(Mode.SIM))
        await restarted.close()
    finally:
        store.close()


def test_an_unreadable_stored_ban_is_ignored(tmp_path: Path) -> None:
    store = Store.open(db_path(tmp_path))
    try:
        store.kv_set(ban_key(Mode.LIVE), "soon")
        assert KvBanStore(store, Mode.LIVE).load() is None
        KvBanStore(store, Mode.LIVE).save(1_700_000_000.5)
        assert KvBanStore(store, Mode.LIVE).load() == 1_700_000_000.5
        assert KvBanStore(store, Mode.TESTNET).load() is None
    finally:
        store.close()
