"""Which symbols one check trades: the static THUNES_SYMBOLS, or the leaders of a ranking.

Each check asks its `SymbolSource` once. The answer (`UniverseView`) names the symbols that may
be entered; the pipeline adds every symbol THUNES still holds (an open position or an order in
flight), so a symbol that leaves the top N keeps its exits and stop-loss but is never entered
again. Reconciliation also covers symbols holding tracked dust.

A ranking older than two of its cadences is stale: no symbol may be entered until a fresh one
arrives; exits go on. Before the first ranking entries wait the same way, and `/health` calls
that unhealthy only once two cadences have passed since the daemon started.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from thunes.clock import Clock
from thunes.domain import RejectReason
from thunes.ranking.types import CADENCE_MINUTES
from thunes.trading.dust import DustLedger
from thunes.trading.orders import IN_FLIGHT
from thunes.trading.ports import LatestRanking, TradingStore
from thunes.trading.results import EntryBlock

STALE_CADENCES = 2


@dataclass(frozen=True)
class UniverseView:
    """The symbols one check may enter, and why no symbol may (if so)."""

    mode: str  # "static" or "ranked:N"
    tradable: tuple[str, ...]
    blocked: str | None = None  # a sentence: entries wait everywhere
    healthy: bool = True
    timeframe: str = ""
    as_of: datetime | None = None
    age_s: float | None = None
    stale_after_s: float | None = None

    def entry_block(self, symbol: str) -> EntryBlock | None:
        if self.blocked is not None:
            return EntryBlock(RejectReason.RANKING_STALE, self.blocked)
        if symbol not in self.tradable:
            return EntryBlock(
                RejectReason.NOT_IN_UNIVERSE,
                f"{symbol} is not in the {self.mode} universe; only its exits trade",
            )
        return None

    def health_detail(self) -> dict[str, object]:
        """What `/health`'s `universe` component shows."""
        return {
            "mode": self.mode,
            "symbols": list(self.tradable),
            "timeframe": self.timeframe,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "age_s": round(self.age_s, 1) if self.age_s is not None else None,
            "stale_after_s": self.stale_after_s,
            "entries": self.blocked is None,
            "reason": self.blocked or "",
        }


class SymbolSource(Protocol):
    def current(self) -> UniverseView: ...


class StaticUniverse:
    """THUNES_SYMBOLS, every check."""

    def __init__(self, symbols: Sequence[str]) -> None:
        self.view = UniverseView("static", tuple(symbols))

    def current(self) -> UniverseView:
        return self.view


class RankedUniverse:
    """The top N of the latest ranking of `timeframe`, stale after two cadences."""

    def __init__(self, rankings: LatestRanking, timeframe: str, top: int, clock: Clock) -> None:
        self.rankings = rankings
        self.timeframe = timeframe
        self.top = top
        self.clock = clock
        self.stale_after_s = STALE_CADENCES * CADENCE_MINUTES[timeframe] * 60.0
        self.started_at = clock.time()

    def current(self) -> UniverseView:
        mode, tf = f"ranked:{self.top}", self.timeframe
        ranking = self.rankings.latest(tf)
        now = self.clock.time()
        if ranking is None:
            waited = now - self.started_at
            return UniverseView(
                mode, (), f"No {tf} ranking yet: entries wait for the first one.",
                healthy=waited <= self.stale_after_s, timeframe=tf,
                stale_after_s=self.stale_after_s,
            )
        age = now - ranking.as_of.timestamp()
        blocked = None
        if age > self.stale_after_s:
            blocked = (
                f"The latest {tf} ranking (as of {ranking.as_of:%Y-%m-%d %H:%M} UTC) is "
                f"{age / 60:.0f} min old, older than two cadences "
                f"({self.stale_after_s / 60:.0f} min): no entries until a fresh one; exits go on."
            )
        return UniverseView(
            mode, tuple(ranking.top(self.top)), blocked, healthy=blocked is None,
            timeframe=tf, as_of=ranking.as_of, age_s=age, stale_after_s=self.stale_after_s,
        )


def held_symbols(store: TradingStore, *, with_dust: bool = False) -> list[str]:
    """Symbols THUNES holds: an open position or an order in flight (and tracked dust)."""
    held = [p.symbol for p in store.open_positions()]
    held += [r.symbol for r in store.orders_in_states(IN_FLIGHT)]
    if with_dust:
        held += list(DustLedger(store).all())
    return sorted(set(held))


def check_symbols(view: UniverseView, held: Iterable[str]) -> list[str]:
    """The symbols one check runs: the tradable ones in their order, then the rest held."""
    return list(dict.fromkeys([*view.tradable, *held]))
