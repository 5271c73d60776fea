"""`thunes demo --paper`: the demo in paper mode, on live public prices when they can be reached.

The market-data source is probed first with a short timeout; when it does not answer, one line
says so and the simulator demo runs instead, so `make run` works offline too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from thunes.config import Settings
from thunes.paper.source import MarketSource, SourceError

PROBE_TIMEOUT_S = 3.0
PAPER_DEMO_SETTINGS: dict[str, Any] = {
    "mode": "paper",
    "symbols": ["BTCUSDT", "ETHUSDT"],
    "timeframe": "5m",
    "check_interval_minutes": 0.5,
    "quote_amount": "25",
    "daily_loss_limit": "50",
    "health_port": 0,
    "log_level": "WARNING",
}


async def _probe(url: str, timeout: float) -> str | None:
    source = MarketSource(url, timeout)
    try:
        answer = await source.get("ping")
    except SourceError as exc:
        return str(exc)
    finally:
        await source.close()
    return None if answer.status == 200 else f"{url} answered {answer.status}"


def unreachable(settings: Settings, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why paper mode's source cannot be used now (None: it answers its public ping)."""
    return asyncio.run(_probe(settings.paper_rest_url, timeout))


def fallback_line(settings: Settings, why: str) -> str:
    return (
        f"paper demo: the market data source {settings.paper_rest_url} is not reachable "
        f"({why}); running the simulator demo instead"
    )
