"""Kline arrays → `KlineRow`s that keep the exchange's text, for downloads.

The trading path reads klines as floats (`parse.klines_frame`); a download keeps Binance's own
strings so the file it writes is the exchange's data digit for digit. The same checks refuse an
unusable answer (a NaN, a negative or zero price, a missing field): `klines_frame` runs over the
same rows, so both paths agree on what is malformed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from thunes.exchange.parse import as_list, klines_frame
from thunes.exchange.types import KlineRow, MalformedResponse

KLINE_FIELDS = 12
_TEXT_FIELDS = (1, 2, 3, 4, 5, 7, 9, 10)


def _integer(row: Sequence[Any], pos: int, index: int) -> int:
    value = row[pos]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedResponse(f"klines[{index}][{pos}] is not an integer: {value!r}")
    try:
        return int(value)
    except ValueError:
        raise MalformedResponse(f"klines[{index}][{pos}] is not an integer: {value!r}") from None


def _amount_text(row: Sequence[Any], pos: int, index: int) -> str:
    value = row[pos]
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        raise MalformedResponse(f"klines[{index}][{pos}] is not a usable amount: {value!r}")
    return text


def kline_row(row: Sequence[Any], index: int = 0) -> KlineRow:
    """One 12-field kline array as a `KlineRow`; refuses a short row or a non-number."""
    if not isinstance(row, list | tuple) or len(row) < KLINE_FIELDS - 1:
        raise MalformedResponse(f"klines[{index}] is not a kline array: {row!r}")
    texts = {pos: _amount_text(row, pos, index) for pos in _TEXT_FIELDS}
    return KlineRow(
        open_time=_integer(row, 0, index),
        open=texts[1],
        high=texts[2],
        low=texts[3],
        close=texts[4],
        volume=texts[5],
        close_time=_integer(row, 6, index),
        quote_volume=texts[7],
        count=_integer(row, 8, index),
        taker_buy_volume=texts[9],
        taker_buy_quote_volume=texts[10],
        ignore=str(row[11]) if len(row) >= KLINE_FIELDS else "0",
    )


def closed_kline_rows(answer: Any, server_now_ms: int) -> list[KlineRow]:
    """The closed bars of a `/klines` answer (close time ≤ server now), oldest first.

    The bar in progress is never returned. Bars must come in strictly increasing open time.
    """
    rows = as_list(answer, "klines")
    klines_frame(rows, server_now_ms)  # the trading path's value checks, on the same rows
    parsed = [kline_row(row, i) for i, row in enumerate(rows)]
    for i in range(1, len(parsed)):
        if parsed[i].open_time <= parsed[i - 1].open_time:
            raise MalformedResponse(f"klines[{i}] opens at or before the bar before it")
    return [row for row in parsed if row.close_time <= server_now_ms]
