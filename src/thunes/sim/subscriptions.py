"""Stream names and the control messages of a stream connection, per web-socket-streams.md.

A name is one of three things:
- served: a stream the simulator publishes (`bookTicker`, `trade`, `aggTrade`, `kline_<i>`,
  `miniTicker`, `ticker`, `avgPrice`, `depth`, `depth@100ms`, `depth<5|10|20>[@100ms]`) for a
  replayed symbol and, for klines, an interval its data supports;
- silent: a well-formed Binance stream name the simulator has no data for (an unknown or
  upper-case symbol, `blockTrade`, `ticker_1h`, `!miniTicker@arr`, a kline finer than the
  data, ...). Binance accepts a subscription to a symbol that does not trade and simply sends
  nothing; the simulator does the same, so one unsupported stream never fails a request for
  the others;
- invalid: not a stream name at all. SUBSCRIBE/UNSUBSCRIBE answer Binance's
  `{"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": ...}` and change nothing.
  A path `/ws/<anything>` is always accepted (clients connect to `/ws/<n>` and SUBSCRIBE later):
  path names that are not streams are ignored.

Errors are sent as the live server sends them, `{"error": {"code", "msg"}, "id"}`; the docs'
"Error Messages" table shows the inner object only. Request ids are a 64-bit integer, an
alphanumeric string of at most 36 characters, or null.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from thunes.intervals import INTERVAL_MS

MAX_STREAMS = 1024
METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_SYMBOL = r"[A-Za-z0-9]{2,30}"
_INTERVALS = "|".join(sorted([*INTERVAL_MS, "1M"], key=len, reverse=True))
_SERVED_KINDS = re.compile(
    r"(bookTicker|trade|aggTrade|miniTicker|ticker|avgPrice|depth(?:5|10|20)?(?:@100ms)?"
    rf"|kline_(?:{_INTERVALS}))"
)
_SILENT_KINDS = re.compile(
    r"(blockTrade|referencePrice|depth(?:5|10|20)?@1000ms|ticker_(?:1h|4h|1d)"
    rf"|kline_(?:{_INTERVALS})@\+08:00)"
)
_ALL_MARKET = re.compile(r"!(miniTicker|ticker|ticker_(?:1h|4h|1d)|bookTicker)@arr")
_ID = re.compile(r"[A-Za-z0-9]{1,36}")


class Kind(Enum):
    SERVED = "served"
    SILENT = "silent"
    INVALID = "invalid"


@dataclass(frozen=True)
class Route:
    """What a served stream name asks for: `kind` is the part after `@` (e.g. `kline_5m`)."""

    symbol: str
    kind: str


def parse(name: object, symbols: set[str]) -> tuple[Kind, Route | None]:
    """Classify one stream name; a served one comes with its route."""
    if not isinstance(name, str):
        return Kind.INVALID, None
    if _ALL_MARKET.fullmatch(name):
        return Kind.SILENT, None
    symbol, at, kind = name.partition("@")
    if not at or not re.fullmatch(_SYMBOL, symbol):
        return Kind.INVALID, None
    if _SILENT_KINDS.fullmatch(kind):
        return Kind.SILENT, None
    if not _SERVED_KINDS.fullmatch(kind):
        return Kind.INVALID, None
    if symbol != symbol.lower() or symbol.upper() not in symbols:
        return Kind.SILENT, None  # "All symbols for streams are lowercase"
    return Kind.SERVED, Route(symbol.upper(), kind)


def error(code: int, msg: str, ident: object = None) -> str:
    return json.dumps({"error": {"code": code, "msg": msg}, "id": ident})


def _valid_id(ident: object) -> bool:
    if ident is None:
        return True
    if isinstance(ident, bool):
        return False
    if isinstance(ident, int):
        return -(2**63) <= ident < 2**63
    return isinstance(ident, str) and _ID.fullmatch(ident) is not None


class Subscriptions:
    """The streams and properties of one connection, changed by its control messages."""

    def __init__(self, names: list[str], combined: bool, symbols: set[str]) -> None:
        self.symbols = symbols
        self.combined = combined
        self.names: list[str] = []  # in subscription order, as LIST_SUBSCRIPTIONS shows them
        for name in names:
            if parse(name, symbols)[0] is not Kind.INVALID and name not in self.names:
                self.names.append(name)

    def handle(self, text: str) -> tuple[str, list[str], list[str]]:
        """Answer one control message: (reply, streams added, streams removed)."""
        try:
            request = json.loads(text)
        except ValueError as exc:
            line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
            return error(3, f"Invalid JSON: expected value at line {line} column {column}"), [], []
        if not isinstance(request, dict) or "method" not in request:
            column = len(text)
            return (
                error(2, f"Invalid request: missing field `method` at line 1 column {column}"),
                [],
                [],
            )
        ident = request.get("id")
        if "id" not in request or not _valid_id(ident):
            return error(2, "Invalid request: request ID must be an unsigned integer"), [], []
        method, params = request["method"], request.get("params", [])
        if method not in METHODS:
            expected = ", ".join(f"`{m}`" for m in METHODS)
            msg = f"Invalid request: unknown variant `{method}`, expected one of {expected}"
            return error(2, msg, ident), [], []
        if not isinstance(params, list):
            return error(2, "Invalid request: invalid params", ident), [], []
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return self._change(method, params, ident)
        if method == "LIST_SUBSCRIPTIONS":
            if params:
                return error(2, "Invalid request: too many parameters", ident), [], []
            return json.dumps({"result": list(self.names), "id": ident}), [], []
        return self._property(method, params, ident), [], []

    def _change(
        self, method: str, params: list[Any], ident: object
    ) -> tuple[str, list[str], list[str]]:
        if any(parse(p, self.symbols)[0] is Kind.INVALID for p in params):
            return error(2, "Invalid request: invalid stream", ident), [], []
        if method == "UNSUBSCRIBE":
            removed = [p for p in dict.fromkeys(params) if p in self.names]
            self.names = [n for n in self.names if n not in removed]
            return json.dumps({"result": None, "id": ident}), [], removed
        added = [p for p in dict.fromkeys(params) if p not in self.names]
        if len(self.names) + len(added) > MAX_STREAMS:
            return error(2, f"Invalid request: too many streams (max {MAX_STREAMS})", ident), [], []
        self.names.extend(added)
        return json.dumps({"result": None, "id": ident}), added, []

    def _property(self, method: str, params: list[Any], ident: object) -> str:
        if not params or not isinstance(params[0], str):
            return error(2, "Invalid request: property name must be a string", ident)
        if params[0] != "combined":
            return error(0, "Unknown property", ident)
        if method == "GET_PROPERTY":
            return json.dumps({"result": self.combined, "id": ident})
        if len(params) != 2 or not isinstance(params[1], bool):
            return error(1, "Invalid value type: expected Boolean", ident)
        self.combined = params[1]
        return json.dumps({"result": None, "id": ident})
