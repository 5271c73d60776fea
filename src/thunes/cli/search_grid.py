"""`--param` and `--grid` for `backtest` and `optimize`, checked against the strategy.

Checked before any work starts, so a typo in a parameter name or a range written backwards is
one clear line, not an empty progress bar followed by "no valid parameter combination".
"""

from __future__ import annotations

from thunes.backtest.walkforward import OptimizeError
from thunes.strategy import StrategyError, get_strategy


def key_values(items: list[str], what: str) -> dict[str, str]:
    """`KEY=VALUE` items as a dict; anything else is a StrategyError naming the item."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise StrategyError(f"{what} {item!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _known(strategy: str, key: str, option: str, searchable: bool = False) -> None:
    """Refuse a parameter the strategy does not have (or, for TPE, cannot search)."""
    instance = get_strategy(strategy)
    known = list(instance.param_space if searchable else instance.defaults)
    if key not in known:
        what = "searchable parameter" if searchable else "parameter"
        raise OptimizeError(
            f"{option} {key}: {strategy} has no {what} {key!r} (it has {', '.join(known)})"
        )


def fixed_values(items: list[str], strategy: str) -> dict[str, float]:
    """The `--param` values of an optimisation, as numbers, for known parameters only."""
    fixed = {}
    for key, text in key_values(items, "--param").items():
        _known(strategy, key, "--param")
        try:
            fixed[key] = float(text)
        except ValueError:
            raise OptimizeError(f"--param {key}={text!r}: not a number") from None
    return fixed


def grid_values(items: list[str], strategy: str, method: str) -> dict[str, list[float]] | None:
    """The `--grid` overrides; with TPE, the keys choose which declared ranges are searched."""
    if not items:
        return None
    grid: dict[str, list[float]] = {}
    for key, text in key_values(items, "--grid").items():
        _known(strategy, key, "--grid", searchable=method == "tpe")
        grid[key] = _values(key, text)
    return grid


def _values(key: str, text: str) -> list[float]:
    where = f"--grid {key}={text}"
    try:
        if ":" not in text:
            values = [float(v) for v in text.split(",") if v.strip()]
            if not values:
                raise ValueError
            return values
        low, high, step = (float(p) for p in text.split(":"))
    except ValueError:
        raise OptimizeError(f"{where}: use LOW:HIGH:STEP or A,B,C") from None
    if step <= 0:
        raise OptimizeError(f"{where}: STEP must be above 0")
    if low > high:
        raise OptimizeError(f"{where}: LOW ({low:g}) is above HIGH ({high:g})")
    count = round((high - low) / step) + 1
    return [round(low + i * step, 10) for i in range(count)]
