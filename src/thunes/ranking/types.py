"""The values of a ranking run, shared by the pure core, the store, the daemon and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

# Cadence of the scheduled ranking per timeframe, in minutes.
CADENCE_MINUTES: dict[str, int] = {"15m": 5, "30m": 10, "1h": 15, "4h": 60, "1d": 1440}


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RankedSymbol:
    """One row of a ranking: higher `bullish_score` ranks first."""

    rank: int
    symbol: str
    bullish_score: Decimal  # in [0, 1], rounded to 4 places
    confidence: int  # percent, 0..100
    quote_volume_24h: Decimal  # in the quote asset
    reasons: tuple[str, ...] = ()  # short, e.g. ("Strong Uptrend", "EMA Bullish")
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SymbolFailure:
    symbol: str
    reason: str  # why it was not ranked (too little history, below the volume floor, error)


@dataclass(frozen=True, slots=True)
class Ranking:
    """What the pure core computed for one as-of time (bars closed before `as_of` only)."""

    timeframe: str
    as_of: datetime
    ranked: tuple[RankedSymbol, ...]
    skipped: tuple[SymbolFailure, ...] = ()

    def top(self, n: int) -> list[str]:
        return [r.symbol for r in self.ranked[:n]]


@dataclass(frozen=True, slots=True)
class RankingRun:
    """A persisted run: the ranking plus when, how long and how it ended."""

    run_id: int
    timeframe: str
    as_of: datetime
    status: RunStatus
    started_at: datetime
    duration_s: float
    considered: int
    ranking: Ranking | None = None
    error: str = ""
    # What the store keeps beside the ranking (counts are there even when its rows are not read).
    finished_at: datetime | None = None
    ranked_count: int = 0
    failed_count: int = 0
    requests: int = 0
    peak_weight: int = 0
    trigger: str = ""  # "schedule" or "manual"
