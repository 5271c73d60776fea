"""The symbol source of `THUNES_UNIVERSE`: the static THUNES_SYMBOLS, or a ranking's leaders.

The ranked source reads the latest successful ranking run of the strategy's timeframe from
the state database at each check (the daemon's ranking jobs write it), so a ranking run by
`POST /trigger/...`, the scheduler or another process counts as soon as it is saved.
"""

from __future__ import annotations

from typing import Any

from thunes.clock import Clock
from thunes.config import Settings
from thunes.ranking.types import Ranking
from thunes.store import Store
from thunes.store.rankings import RankingStore
from thunes.trading.universe import RankedUniverse, StaticUniverse, SymbolSource


class StoredRankings:
    """`LatestRanking` over the ranking runs in the state database."""

    def __init__(self, store: RankingStore) -> None:
        self.store = store

    def latest(self, timeframe: str) -> Ranking | None:
        run = self.store.latest_success(timeframe)
        return run.ranking if run is not None else None


def symbol_source(settings: Settings, store: Store, clock: Clock) -> SymbolSource:
    top = settings.ranked_top
    if top is None:
        return StaticUniverse(settings.symbols)
    return RankedUniverse(StoredRankings(RankingStore.of(store)), settings.timeframe, top, clock)


def universe_health(source: SymbolSource) -> tuple[bool, dict[str, Any]]:
    """What `/health`'s `universe` component shows: healthy, and the view's detail."""
    view = source.current()
    return view.healthy, view.health_detail()
