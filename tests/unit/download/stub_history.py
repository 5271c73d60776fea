"""A hand-written in-memory exchange for the downloader: Binance's /klines paging rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from thunes.exchange.types import KlineRow, TemporaryError

HOUR_MS = 3_600_000
START_MS = 1_609_459_200_000  # 2021-01-01 00:00 UTC


def bar(open_ms: int, interval_ms: int = HOUR_MS, close: str = "100.00000000") -> KlineRow:
    return KlineRow(
        open_ms, "100.00000000", "101.00000000", "99.00000000", close, "5.00000000",
        open_ms + interval_ms - 1, "500.00000000", 7, "2.50000000", "250.00000000", "0",
    )


def hourly(count: int, start_ms: int = START_MS, skip: frozenset[int] = frozenset()) -> list[KlineRow]:
    """`count` hourly bars from `start_ms`, leaving out the positions in `skip` (gaps)."""
    return [bar(start_ms + i * HOUR_MS) for i in range(count) if i not in skip]


@dataclass
class StubHistory:
    """Serves `bars` like /api/v3/klines: open ≥ start, open ≤ end, oldest first, up to limit.

    `fail_after` makes every request after that many fail (a service outage mid-download).
    """

    bars: list[KlineRow]
    fail_after: int | None = None
    calls: list[tuple[int, int, int]] = field(default_factory=list)

    async def klines_between(
        self, symbol: str, interval: str, start_ms: int, end_ms: int, limit: int = 1000
    ) -> list[KlineRow]:
        self.calls.append((start_ms, end_ms, limit))
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise TemporaryError("503 from the stub")
        return [b for b in self.bars if start_ms <= b.open_time <= end_ms][:limit]
