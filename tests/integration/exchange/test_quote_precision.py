"""THUNES sends amounts the exchange reads: a quote amount finer than the quote asset's precision
is refused by the exchange (-1111), so the settings refuse it before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from thunes.config import SettingsError, load_settings
from thunes.domain import OrderIntent, Side
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import PlacementStatus


async def test_a_quote_amount_at_the_asset_precision_is_accepted(gateway: BinanceGateway) -> None:
    intent = OrderIntent("q-8", "BTCUSDT", Side.BUY, quote_quantity=Decimal("10.12345678"))
    result = await gateway.place_market_order(intent)
    assert result.status is PlacementStatus.ACCEPTED


async def test_a_quote_amount_finer_than_the_asset_is_refused_by_the_exchange(
    gateway: BinanceGateway,
) -> None:
    intent = OrderIntent("q-9", "BTCUSDT", Side.BUY, quote_quantity=Decimal("10.123456789"))
    result = await gateway.place_market_order(intent)
    assert (result.status, result.error_code) == (PlacementStatus.REJECTED, -1111)


def test_settings_refuse_a_quote_amount_finer_than_the_asset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THUNES_QUOTE_AMOUNT", "10.123456789")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert [line.split(":")[0] for line in caught.value.problems] == ["THUNES_QUOTE_AMOUNT"]
    monkeypatch.setenv("THUNES_QUOTE_AMOUNT", "10.12345678")
    assert load_settings(env_file=None).quote_amount == Decimal("10.12345678")
