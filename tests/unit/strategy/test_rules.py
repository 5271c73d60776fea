"""The shared trading rules: one stop rule, one cool-down rule, defaults equal to the settings'."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from thunes.config import ENV_PREFIX, Settings
from thunes.strategy.rules import (
    TradingRules,
    cooldown_blocks,
    cooldown_until,
    daily_loss_reached,
    effective_stop,
    effective_stops,
    stop_loss_hit,
    stop_loss_hits,
)


def test_shipped_rules_equal_the_default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """TradingRules' defaults (used by BacktestConfig and PipelineConfig) cannot drift from the
    settings an operator gets with no configuration."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    assert TradingRules.from_settings(Settings(_env_file=None)) == TradingRules()


def test_from_settings_reads_every_rule() -> None:
    settings = Settings(
        _env_file=None, stop_loss_pct=Decimal("0.05"), min_confidence=0.3, cooldown_minutes=15,
        daily_loss_limit=Decimal("40"), quote_amount=Decimal("25"),
        sim_fee_rate=Decimal("0.00075"), max_open_positions=2,
    )
    assert TradingRules.from_settings(settings) == TradingRules(
        Decimal("0.05"), 0.3, timedelta(minutes=15), Decimal("40"), Decimal("25"),
        Decimal("0.00075"), 2,
    )


def test_stop_is_hit_at_or_below_the_entry_price_less_the_stop() -> None:
    entry = Decimal("100")
    assert stop_loss_hit(entry, Decimal("97"), Decimal("0.03"))
    assert stop_loss_hit(entry, Decimal("96.99"), Decimal("0.03"))
    assert not stop_loss_hit(entry, Decimal("97.01"), Decimal("0.03"))
    assert not stop_loss_hit(entry, Decimal("1"), Decimal("0"))


def test_the_vector_form_agrees_with_the_scalar_rule() -> None:
    prices = np.array([98.0, 97.0, 96.5, 99.0, 50.0])
    stops = np.array([0.03, 0.03, 0.0, 0.01, 0.0])
    got = stop_loss_hits(100.0, prices, stops).tolist()
    want = [stop_loss_hit(Decimal(100), Decimal(str(p)), Decimal(str(s)))
            for p, s in zip(prices, stops, strict=True)]
    assert got == want == [False, True, False, True, False]


def test_the_strategy_stop_wins_over_the_default_when_it_sets_one() -> None:
    default = Decimal("0.03")
    assert effective_stop(Decimal("0.01"), default) == Decimal("0.01")
    assert effective_stop(None, default) == default
    assert effective_stop(Decimal(0), default) == default
    assert effective_stops(np.array([0.01, 0.0]), 0.03).tolist() == [0.01, 0.03]


def test_cooldown_and_daily_loss_rules() -> None:
    until = cooldown_until(1_000.0, 3_600.0)
    assert cooldown_blocks(4_599.0, until) and not cooldown_blocks(4_600.0, until)
    assert not cooldown_blocks(0.0, None)
    assert daily_loss_reached(Decimal("-20"), Decimal("20"))
    assert not daily_loss_reached(Decimal("-19.99"), Decimal("20"))
    assert not daily_loss_reached(-1e9, None)
