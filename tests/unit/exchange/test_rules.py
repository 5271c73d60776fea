"""Symbol rules parsed from exchangeInfo; rounding and filter checks in Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.exchange.exchange_info import BTCUSDT, EXCHANGE_INFO
from thunes.domain import RejectReason
from thunes.exchange.rules import RulesError, parse_exchange_info, parse_symbol_rules, rate_limits

D = Decimal


def test_parses_every_filter_as_decimal() -> None:
    rules = parse_exchange_info(EXCHANGE_INFO)["BTCUSDT"]
    assert (rules.base_asset, rules.quote_asset) == ("BTC", "USDT")
    assert rules.tick_size == D("0.01") and rules.step_size == D("0.00001")
    assert (rules.min_qty, rules.max_qty) == (D("0.00001"), D("9000"))
    assert (rules.market_step_size, rules.market_max_qty) == (D("0"), D("118"))
    assert rules.min_notional == D("5") and rules.max_notional == D("9000000")
    assert rules.apply_min_to_market is True


def test_legacy_min_notional_and_market_lot_step() -> None:
    rules = parse_exchange_info(EXCHANGE_INFO)["OLDBTC"]
    assert rules.min_notional == D("0.001")
    assert rules.apply_min_to_market is False
    assert rules.max_notional is None
    assert rules.round_quantity(D("1.23456"), market=True) == D("1.23")
    assert rules.round_quantity(D("1.23456"), market=False) == D("1.234")


def test_rate_limits_are_read() -> None:
    assert rate_limits(EXCHANGE_INFO) == (6000, 100)


def test_missing_filters_disable_rules_and_bad_numbers_are_refused() -> None:
    bare = parse_symbol_rules({"symbol": "XYZUSDT", "filters": []})
    assert bare.check(D("1"), D("123.456"), market=False) is None
    broken = {**BTCUSDT, "filters": [{"filterType": "LOT_SIZE", "stepSize": "abc"}]}
    with pytest.raises(RulesError):
        parse_symbol_rules(broken)
    with pytest.raises(RulesError):
        parse_exchange_info({"symbols": None})


def test_violations_name_the_filter() -> None:
    rules = parse_symbol_rules(BTCUSDT)
    assert rules.check(D("20000"), D("0.000001"))  # below min qty
    below = rules.check(D("20000"), D("0.000001"))
    assert below is not None and below.filter == "LOT_SIZE"
    market = rules.check(D("20000"), D("200"), market=True)
    assert market is not None and market.filter == "MARKET_LOT_SIZE"
    assert market.reason is RejectReason.FILTER_MARKET_LOT_SIZE
    small = rules.check(D("20000"), D("0.0002"))
    assert small is not None and small.filter == "NOTIONAL"
    off_tick = rules.check(D("20000.005"), D("0.01"), market=False)
    assert off_tick is not None and off_tick.filter == "PRICE_FILTER"
    assert rules.check(D("20000"), D("0.01")) is None


prices = st.decimals(min_value=D("0.01"), max_value=D("999999"), places=6)
quantities = st.decimals(min_value=D("0.00001"), max_value=D("117"), places=8)


@given(price=prices)
def test_price_rounds_down_onto_the_tick(price: Decimal) -> None:
    rules = parse_symbol_rules(BTCUSDT)
    rounded = rules.round_price(price)
    assert rounded <= price < rounded + rules.tick_size
    assert rounded % rules.tick_size == 0


@given(price=prices, quantity=quantities)
def test_rounded_quantity_passes_the_lot_filters(price: Decimal, quantity: Decimal) -> None:
    rules = parse_symbol_rules(BTCUSDT)
    qty = rules.round_quantity(quantity, market=True)
    assert qty <= quantity < qty + rules.step_size
    violation = rules.check(rules.round_price(price), qty, market=True)
    if violation is not None:
        assert violation.filter == "NOTIONAL"
        notional = rules.round_price(price) * qty
        assert rules.max_notional is not None
        assert notional < rules.min_notional or notional > rules.max_notional
