"""The ranking page and `/api/v1/ranking` when ranking is on (and what they say when it is off)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import aiohttp

from tests.integration.web.conftest import NOW, Rig, api_login
from thunes.ranking.types import RankedSymbol, Ranking, RankingRun, RunStatus


@dataclass
class Rankings:
    runs: dict[str, RankingRun]

    def latest_success(self, timeframe: str) -> RankingRun | None:
        return self.runs.get(timeframe)


def a_run() -> RankingRun:
    rows = (RankedSymbol(1, "SOLUSDT", Decimal("0.8123"), 81, Decimal("25000000"),
                         ("Strong Uptrend",)),
            RankedSymbol(2, "BTCUSDT", Decimal("0.7001"), 70, Decimal("900000000")))
    return RankingRun(7, "1h", NOW, RunStatus.SUCCESS, NOW, 1.5, 2,
                      Ranking("1h", NOW, rows), ranked_count=2)


async def test_the_ranking_shows_the_latest_run_of_each_ranked_timeframe(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    await api_login(client, rig.url)
    async with client.get(f"{rig.url}/api/v1/ranking") as answer:
        assert await answer.json() == {"enabled": False, "timeframes": {}}
    async with client.get(f"{rig.url}/ranking") as answer:
        assert "Ranking is off" in await answer.text()

    rig.server.sources.rankings = Rankings({"1h": a_run()})
    rig.server.sources.rank_timeframes = ("1h", "4h")
    async with client.get(f"{rig.url}/api/v1/ranking") as answer:
        body = await answer.json()
    assert body["enabled"] is True and body["timeframes"]["4h"] is None
    assert [r["symbol"] for r in body["timeframes"]["1h"]["ranked"]] == ["SOLUSDT", "BTCUSDT"]
    async with client.get(f"{rig.url}/ranking") as answer:
        page = await answer.text()
    assert page.index("SOLUSDT") < page.index("BTCUSDT")
    assert "Strong Uptrend" in page and "No ranking of 4h yet." in page
