from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thunes.domain import Position
from thunes.store import Store

money = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d) < Decimal("1e30")
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(quantity=money, price=money, fees=money, opened=moments)
def test_decimals_and_times_round_trip_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    quantity: Decimal,
    price: Decimal,
    fees: Decimal,
    opened: datetime,
) -> None:
    path = tmp_path_factory.mktemp("exact") / "thunes.db"
    with Store.open(path) as store:
        store.save_position(Position("BTCUSDT", quantity, price, opened, entry_fees_quote=fees))
        stored = store.open_position("BTCUSDT")
    assert stored is not None
    assert (str(stored.quantity), str(stored.avg_entry_price)) == (str(quantity), str(price))
    assert str(stored.entry_fees_quote) == str(fees)
    assert stored.opened_at == opened


def test_times_in_other_zones_are_stored_as_utc(tmp_path: Path) -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    local = datetime(2024, 3, 1, 1, 30, tzinfo=paris)
    with Store.open(tmp_path / "thunes.db") as store:
        store.save_position(Position("BTCUSDT", Decimal(1), Decimal(1), local))
        stored = store.open_position("BTCUSDT")
    assert stored is not None
    assert stored.opened_at == local and stored.opened_at.utcoffset() == timedelta(0)
