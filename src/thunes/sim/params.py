"""Request parameters read as strictly as Binance reads them: never a 5xx for a bad request.

Deterministic rules (errors.md codes):
- A parameter repeated in the query string, or in the body, is -1101 ("Duplicate values for a
  parameter detected."). One sent in both is not: "If a parameter sent in both the query string
  and request body, the query string parameter will be used." (rest-api.md).
- A parameter the endpoint does not document is -1104 (not all sent parameters were read).
- Symbols match `^[A-Z0-9-_.]{1,20}$`, integers `^[0-9]{1,20}$`, decimals
  `^([0-9]{1,20})(\\.[0-9]{1,20})?$`; anything else (lower case, a sign, an exponent, `null`) is
  -1100 with that legal range.
- A decimal with more significant decimals than its asset's precision (8, as exchangeInfo
  publishes) is -1111 "Parameter '%s' has too much precision."; trailing zeros do not count.
- An empty value counts as not sent: a mandatory one is -1102, an optional one is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from thunes.sim.orders import SimError

SYMBOL_RE = re.compile(r"[A-Z0-9\-_.]{1,20}")
INT_RE = re.compile(r"[0-9]{1,20}")
DECIMAL_RE = re.compile(r"([0-9]{1,20})(\.[0-9]{1,20})?")
SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"
INT_RANGE = "^[0-9]{1,20}$"
DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
ASSET_PRECISION = 8
MAX_SYMBOLS = 100
SIGNED = frozenset({"timestamp", "recvWindow", "signature"})


def illegal(name: str, legal: str) -> SimError:
    return SimError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def mandatory(name: str) -> SimError:
    return SimError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def invalid_data() -> SimError:
    return SimError(-1130, "Invalid data sent for a parameter.")


def collect(
    query: Iterable[tuple[str, str]], body: Iterable[tuple[str, str]] = ()
) -> dict[str, str]:
    """One value per name; duplicates inside the query or inside the body are -1101."""
    merged: dict[str, str] = {}
    for source in (body, query):
        seen: set[str] = set()
        for name, value in source:
            if name in seen:
                raise SimError(-1101, "Duplicate values for a parameter detected.")
            seen.add(name)
            merged[name] = value
    return merged


class Params(Mapping[str, str]):
    """The parameters of one request, with Binance's typed readers."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def raw(self) -> dict[str, str]:
        return dict(self._values)

    def sent(self, name: str) -> bool:
        return bool(self._values.get(name))

    def only(self, accepted: frozenset[str]) -> None:
        """-1104 when a parameter outside `accepted` was sent."""
        unread = [name for name in self._values if name not in accepted]
        if unread:
            sent = len(self._values)
            raise SimError(
                -1104,
                f"Not all sent parameters were read; read '{sent - len(unread)}' parameter(s) "
                f"but was sent '{sent}'.",
            )

    def text(self, name: str, required: bool = False) -> str | None:
        value = self._values.get(name) or None
        if value is None and required:
            raise mandatory(name)
        return value

    def symbol(self, name: str = "symbol", required: bool = True) -> str | None:
        value = self.text(name, required)
        if value is not None and not SYMBOL_RE.fullmatch(value):
            raise illegal(name, SYMBOL_RANGE)
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        if not INT_RE.fullmatch(value):
            raise illegal(name, INT_RANGE)
        return int(value)

    def limit(self, default: int, maximum: int, clamp: bool = True) -> int:
        """`limit` in [1, maximum]: 0 is -1130; above the maximum it is capped (or -1130)."""
        value = self.integer("limit", default)
        assert value is not None
        if value < 1 or (value > maximum and not clamp):
            raise invalid_data()
        return min(value, maximum)

    def decimal(self, name: str, precision: int = ASSET_PRECISION) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        match = DECIMAL_RE.fullmatch(value)
        if match is None:
            raise illegal(name, DECIMAL_RANGE)
        fraction = (match.group(2) or ".")[1:].rstrip("0")
        if len(fraction) > precision:
            raise SimError(-1111, f"Parameter '{name}' has too much precision.")
        return Decimal(value)

    def boolean(self, name: str) -> bool:
        value = self.text(name)
        if value is None:
            return False
        if value.lower() not in ("true", "false"):
            raise illegal(name, "true, false")
        return value.lower() == "true"

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name) or default
        if value not in allowed:
            raise illegal(name, ", ".join(allowed))
        return value

    def symbols(self) -> list[str] | None:
        """`symbols` as a JSON array of symbol names (`["BTCUSDT","ETHUSDT"]`), or None."""
        raw = self.text("symbols")
        if raw is None:
            return None
        try:
            listed = json.loads(raw)
        except ValueError:
            listed = None
        legal = '["SYMBOL", ...]'
        if not isinstance(listed, list) or not listed:
            raise illegal("symbols", legal)
        if not all(isinstance(s, str) and SYMBOL_RE.fullmatch(s) for s in listed):
            raise illegal("symbols", legal)
        if len(set(listed)) != len(listed):
            raise SimError(-1151, "Symbol is present multiple times in the list.")
        if len(listed) > MAX_SYMBOLS:
            raise SimError(
                -1101,
                "Too many values sent for parameter 'symbols', "
                f"maximum allowed up to {MAX_SYMBOLS}.",
            )
        return [str(s) for s in listed]
