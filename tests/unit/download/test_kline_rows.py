"""Kline arrays kept as the exchange's text; unusable answers refused; the open bar left out."""

from __future__ import annotations

from typing import Any

import pytest

from thunes.exchange.kline_rows import closed_kline_rows
from thunes.exchange.types import MalformedResponse

H = 3_600_000


def _raw(open_ms: int, close: Any = "29031.34000000") -> list[Any]:
    return [open_ms, "28923.63000000", "29031.34000000", "28690.17000000", close,
            "2311.81144500", open_ms + H - 1, "66768830.34010000", 58389, "1151.30001900",
            "33255849.13741600", "0"]


def test_rows_keep_the_exchanges_digits() -> None:
    (row,) = closed_kline_rows([_raw(0)], server_now_ms=H)
    assert row.fields() == tuple(str(x) for x in _raw(0))


def test_the_bar_in_progress_is_left_out() -> None:
    rows = closed_kline_rows([_raw(0), _raw(H)], server_now_ms=H + 10)
    assert [r.open_time for r in rows] == [0]


@pytest.mark.parametrize("bad", ["NaN", "-1", "abc", None])
def test_an_unusable_amount_refuses_the_answer(bad: Any) -> None:
    with pytest.raises(MalformedResponse):
        closed_kline_rows([_raw(0), _raw(H, close=bad)], server_now_ms=3 * H)


def test_bars_not_in_increasing_order_refuse_the_answer() -> None:
    with pytest.raises(MalformedResponse, match="opens at or before"):
        closed_kline_rows([_raw(H), _raw(0)], server_now_ms=3 * H)


def test_an_answer_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(MalformedResponse):
        closed_kline_rows({"code": -1}, server_now_ms=H)
