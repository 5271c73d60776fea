"""The gateway backfill adapter: frame rows to Bars from the first missing open time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd

from thunes.clock import ManualClock
from thunes.market.stream_backfill import gateway_backfill

T0 = datetime(2023, 1, 1, tzinfo=UTC)


class Gateway:
    def __init__(self) -> None:
        self.limits: list[int] = []

    async def closed_klines(self, symbol: str, interval: str, limit: int = 500) -> pd.DataFrame:
        self.limits.append(limit)
        index = pd.date_range(T0, periods=6, freq="5min", tz="UTC", name="open_time")
        values = [100.0 + i + 0.25 for i in range(6)]
        return pd.DataFrame(
            {"open": values, "high": values, "low": values, "close": values, "volume": 1.5},
            index=index,
        )


async def test_rows_before_since_are_left_out_and_values_are_decimal() -> None:
    gateway = Gateway()
    clock = ManualClock(start=T0.timestamp() + 30 * 60)
    backfill = gateway_backfill(gateway, "5m", clock)
    since_ms = int(T0.timestamp() * 1000) + 3 * 300_000
    bars = await backfill("BTCUSDT", since_ms)
    assert [b.open_time for b in bars] == [
        datetime(2023, 1, 1, 0, 15, tzinfo=UTC),
        datetime(2023, 1, 1, 0, 20, tzinfo=UTC),
        datetime(2023, 1, 1, 0, 25, tzinfo=UTC),
    ]
    assert bars[0].close == Decimal("103.25") and bars[0].volume == Decimal("1.5")
    assert gateway.limits == [5]  # three bars missing plus a margin
