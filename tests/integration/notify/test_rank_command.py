"""Telegram `/rank [timeframe]`: the top 10 of the latest stored ranking, over the fake Bot API."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.notify.backend import StoreCommandBackend
from thunes.notify.bot_app import TelegramCommands
from thunes.notify.transport import build_bot
from thunes.ranking.types import RankedSymbol, Ranking, SymbolFailure
from thunes.store import Store
from thunes.store.rankings import RankingStore, RunCounts
from thunes.trading.risk import RiskLimits, RiskManager

CHAT = 515151
AS_OF = datetime(2021, 5, 1, 1, 0, tzinfo=UTC)


@dataclass
class Rig:
    api: FakeBotApi
    rankings: RankingStore

    async def say(self, text: str) -> str:
        before = len(self.api.sent_texts(CHAT))
        self.api.inject_message(CHAT, text)
        await eventually(lambda: len(self.api.sent_texts(CHAT)) > before, timeout=10)
        sent = self.api.sent_texts(CHAT)[-1]
        return html.unescape(sent.removeprefix("<pre>").removesuffix("</pre>"))


def ranking(timeframe: str, symbols: int) -> Ranking:
    rows = tuple(
        RankedSymbol(
            rank=i,
            symbol=f"S{i:02d}USDT",
            bullish_score=Decimal(1) - Decimal(i) / 100,
            confidence=90 - i,
            quote_volume_24h=Decimal("25000000.50") * i,
            reasons=("Strong Uptrend", "EMA Bullish"),
        )
        for i in range(1, symbols + 1)
    )
    return Ranking(timeframe, AS_OF, rows, (SymbolFailure("DOGEUSDT", "below the floor"),))


def persist(rankings: RankingStore, result: Ranking) -> int:
    run_id = rankings.start_run(result.timeframe, "test", AS_OF - timedelta(seconds=2), "schedule")
    rankings.finish_run(run_id, result, RunCounts(len(result.ranked) + 1), AS_OF, 1.5)
    return run_id


@pytest.fixture
async def rig(fake_api: FakeBotApi, store: Store) -> AsyncIterator[Rig]:
    clock = ManualClock(AS_OF.timestamp())
    risk = RiskManager(RiskLimits(Decimal("20"), 3, timedelta(minutes=60)), store, clock)
    rankings = RankingStore.of(store)
    backend = StoreCommandBackend(
        store,
        risk,
        clock,
        daily_loss_limit=Decimal("20"),
        rankings=rankings,
        rank_timeframes=("1h", "4h"),
    )
    bot = build_bot(fake_api.token, fake_api.base_url, timeout=3.0)
    commands = TelegramCommands(bot, CHAT, backend, clock, token=fake_api.token, poll_timeout=1.0)
    commands.start()
    await eventually(commands.ready.is_set, timeout=10)
    try:
        yield Rig(fake_api, rankings)
    finally:
        await commands.stop()


def symbol_lines(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.split()[0].isdigit()]


async def test_rank_shows_the_top_10_of_the_first_ranked_timeframe(rig: Rig) -> None:
    run_id = persist(rig.rankings, ranking("1h", 14))
    text = await rig.say("/rank")
    assert text.splitlines()[0] == f"Ranking 1h as of 2021-05-01 01:00 UTC (run {run_id})"
    assert symbol_lines(text) == [f"S{i:02d}USDT" for i in range(1, 11)]
    assert "0.990" in text and "89%" in text and "25.0M" in text
    assert "ranked 14, skipped 1" in text


async def test_rank_with_a_timeframe_shows_that_ranking(rig: Rig) -> None:
    persist(rig.rankings, ranking("1h", 3))
    persist(rig.rankings, ranking("4h", 2))
    text = await rig.say("/rank 4h")
    assert text.startswith("Ranking 4h")
    assert symbol_lines(text) == ["S01USDT", "S02USDT"]


async def test_rank_before_any_run_says_so(rig: Rig) -> None:
    assert await rig.say("/rank 4h") == "No ranking of 4h yet."


async def test_rank_of_a_timeframe_not_ranked_names_the_ranked_ones(rig: Rig) -> None:
    text = await rig.say("/rank 15m")
    assert text == "No ranking for 15m; ranked timeframes: 1h, 4h. Usage: /rank [timeframe]"
