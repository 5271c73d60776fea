"""The daemon's ranking service from settings: which timeframes, which universe, which lock."""

from __future__ import annotations

from thunes.app.parts import Built
from thunes.clock import SystemClock
from thunes.config import Settings
from thunes.ranking.lock import RankingLock
from thunes.ranking.service import RankingConfig, RankingService, gateway_fetch
from thunes.store.rankings import RankingStore


def ranking_timeframes(settings: Settings) -> tuple[str, ...]:
    """THUNES_RANK_TIMEFRAMES, plus the strategy's timeframe when the universe is ranked."""
    timeframes = list(settings.rank_timeframes)
    if getattr(settings, "ranked_top", None) is not None:
        timeframes.append(settings.timeframe)
    return tuple(dict.fromkeys(timeframes))


def ranking_config(settings: Settings) -> RankingConfig:
    return RankingConfig(
        timeframes=ranking_timeframes(settings),
        quote_asset=settings.rank_quote_asset,
        deny=tuple(settings.rank_deny),
        min_quote_volume=settings.rank_min_quote_volume,
    )


def ranking_service(built: Built) -> RankingService | None:
    """The service over the daemon's gateway and store, or None when ranking is off.

    The lock expires on the wall clock: a holder's liveness is real time, also when the
    simulator compresses market time.
    """
    config = ranking_config(built.settings)
    if not config.timeframes:
        return None
    store = RankingStore.of(built.store)
    return RankingService(
        store,
        gateway_fetch(built.gateway, config),
        config,
        built.clock,
        RankingLock(store, SystemClock()),
    )
