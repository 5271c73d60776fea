"""The commented starting point `thunes new-strategy NAME` writes."""

from __future__ import annotations

import re
from pathlib import Path

from thunes.strategy import BUILTIN_NAMES
from thunes.strategy_files.imports import StrategyLoadError

NAME_RULE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

TEMPLATE = '''"""{name}: a trend-following strategy written from THUNES' template.

Read docs/STRATEGIES.md for the contract. In short: THUNES calls `_compute` with closed bars
only (the last row is the bar that just closed), the same code runs in backtests and live, and
an entry or exit signalled on bar i is filled at bar i+1's open.

Try it:
    thunes list-strategies
    thunes backtest --strategy {name} --data BTCUSDT-1h.csv.gz
    thunes check-strategy {name} --data BTCUSDT-1h.csv.gz
    THUNES_STRATEGY={name} thunes doctor
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from thunes.strategy import Bars, ParamRange, Strategy, StrategyError
from thunes.strategy.base import ParamValue
from thunes.strategy.indicators import VOLUME_LOOKBACK


class {class_name}(Strategy):
    """Enter when the close crosses above its slow average while the fast one is above it too;
    exit when the close falls below the fast average."""

    # The name THUNES_STRATEGY and --strategy use (lower-case letters, digits and _).
    name: ClassVar[str] = "{name}"

    # Every parameter with its default: the values a backtest or the daemon use unless
    # --param or published (optimised) parameters say otherwise. Integers stay integers.
    defaults: ClassVar[Mapping[str, ParamValue]] = {{
        "fast": 10,
        "slow": 40,
        "stop_loss_pct": 0.03,  # 0 = no stop of its own: the THUNES_STOP_LOSS_PCT default applies
    }}

    # The search ranges `thunes optimize` explores: ParamRange(low, high, step), inclusive.
    # Each default must lie inside its range; pass is_int=False for fractional parameters.
    param_space: ClassVar[Mapping[str, ParamRange]] = {{
        "fast": ParamRange(5, 30, 5),
        "slow": ParamRange(20, 100, 10),
        "stop_loss_pct": ParamRange(0.01, 0.05, 0.01, is_int=False),
    }}

    def _check(self, params: Mapping[str, ParamValue]) -> None:
        """Refuse combinations that make no sense (the optimiser skips them)."""
        if not 1 <= params["fast"] < params["slow"]:
            raise StrategyError(f"{name}: need 1 <= fast < slow, got {{dict(params)}}")
        if not 0 <= params["stop_loss_pct"] < 1:
            raise StrategyError(f"{name}: stop_loss_pct must be in [0, 1)")

    @property
    def warmup_bars(self) -> int:
        """Bars of history before the first signal may exist.

        The slow average needs `slow` bars, a cross also looks at the bar before, and the
        volume confidence needs VOLUME_LOOKBACK bars. Before this many bars THUNES forces no
        signal, in the backtest and live alike.
        """
        return max(int(self.params["slow"]) + 1, VOLUME_LOOKBACK + 1)

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        """Vectorised signals for every bar: (entries, exits, stop) as fresh bool arrays.

        Use only bars up to i for bar i: rolling windows that look back, never `shift(-1)`,
        centred windows or anything normalised by the whole series. `bars.sma` is exact
        whatever the start of the data, so the live daemon (a short history) and the backtest
        (years) agree bar for bar.
        """
        fast = bars.sma("close", int(self.params["fast"]))
        slow = bars.sma("close", int(self.params["slow"]))
        above = bars.close > slow
        entries = np.zeros(len(bars), dtype=bool)
        entries[1:] = above[1:] & ~above[:-1] & (fast[1:] > slow[1:])
        exits = bars.close < fast
        # The stop: None for no stop of its own (THUNES_STOP_LOSS_PCT applies), a fraction
        # (0.03 = sell at 3 % below the entry fill price), or a numpy array with one fraction
        # per bar (at each check, the value of the last closed bar applies).
        stop = float(self.params["stop_loss_pct"])
        return entries, exits, stop if stop > 0 else None
'''


def class_name_for(name: str) -> str:
    """`my_trend` -> `MyTrend`."""
    return "".join(part.capitalize() for part in name.split("_") if part) or "UserStrategy"


def template_text(name: str) -> str:
    return TEMPLATE.format(name=name, class_name=class_name_for(name))


def write_template(name: str, folder: Path) -> Path:
    """Write `folder/NAME.py`; a bad name or an existing file is refused (nothing overwritten)."""
    if not NAME_RULE.match(name):
        raise StrategyLoadError(
            f"strategy name {name!r}: use lower-case letters, digits and _, starting with a letter"
        )
    if name in BUILTIN_NAMES:
        raise StrategyLoadError(f"strategy name {name!r} is a built-in strategy's; choose another")
    path = folder / f"{name}.py"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(template_text(name))
    except FileExistsError:
        raise StrategyLoadError(f"{path}: already exists; not overwriting it") from None
    except OSError as exc:
        raise StrategyLoadError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path
