"""A ranking as plain JSON-ready data: Decimals as strings (exact), times in ISO 8601 UTC."""

from __future__ import annotations

from typing import Any

from thunes.ranking.types import RankedSymbol, Ranking


def row_to_dict(row: RankedSymbol) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "symbol": row.symbol,
        "bullish_score": str(row.bullish_score),
        "confidence": row.confidence,
        "quote_volume_24h": str(row.quote_volume_24h),
        "reasons": list(row.reasons),
        "features": dict(row.features),
    }


def ranking_to_dict(ranking: Ranking) -> dict[str, Any]:
    return {
        "timeframe": ranking.timeframe,
        "as_of": ranking.as_of.isoformat(),
        "ranked": [row_to_dict(row) for row in ranking.ranked],
        "skipped": [{"symbol": f.symbol, "reason": f.reason} for f in ranking.skipped],
    }
