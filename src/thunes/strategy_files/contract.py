"""Check that a user's class keeps the strategy contract before anything trades it.

The daemon calls a strategy every check for months; a class that cannot be built with its own
defaults, declares a search range its default falls outside, or returns signals of the wrong
shape must be refused at start-up with the line to fix, not discovered at the first check.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thunes.strategy import Bars, ParamRange, Strategy, StrategyError
from thunes.strategy_files.imports import describe_failure, located

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PROBE_MIN_BARS = 300


@functools.lru_cache(maxsize=512)
def _source(cls: type) -> tuple[list[str], int] | None:
    """The class's source lines and first line (parsing is the slow part; once per class)."""
    try:
        return inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None


def class_line(cls: object) -> int | None:
    """The line of `class X` (None when the source cannot be found)."""
    found = _source(cls) if isinstance(cls, type) else None
    return found[1] if found else None


def attr_line(cls: type, attr: str, key: str | None = None) -> int | None:
    """The line declaring `attr` (or `key` inside it) in the class body, else the class line."""
    source = _source(cls)
    if source is None:
        return None
    lines, start = source
    found = None
    for offset, text in enumerate(lines):
        if found is None and re.match(rf"\s*{re.escape(attr)}\b", text):
            found = start + offset
            if key is None:
                return found
        if (
            found is not None
            and key is not None
            and re.search(rf"[\"']{re.escape(key)}[\"']", text)
        ):
            return start + offset
    return found or start


def contract_problems(cls: Any, path: Path | str) -> list[str]:
    """Every way `cls` breaks the contract, one `path:line: why` each (empty: it keeps it)."""
    here = class_line(cls)
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        what = getattr(cls, "__name__", repr(cls))
        return [located(path, here, f"{what} does not derive from thunes.strategy.Strategy")]
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        return [located(path, here, f"{cls.__name__} does not define {', '.join(missing)}")]
    problems = _declaration_problems(cls, path)
    if problems:
        return problems
    return _behaviour_problems(cls, path)


def _declaration_problems(cls: type[Strategy], path: Path | str) -> list[str]:
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        line = attr_line(cls, "name")
        return [
            located(
                path,
                line,
                f"{cls.__name__}.name must be lower-case letters, digits "
                f"and _ starting with a letter, got {name!r}",
            )
        ]
    defaults = getattr(cls, "defaults", None)
    if not isinstance(defaults, Mapping):
        return [located(path, attr_line(cls, "defaults"), f"{name}: defaults must be a dict")]
    problems = [
        located(
            path,
            attr_line(cls, "defaults", key),
            f"{name}: default {key}={value!r} must be a number",
        )
        for key, value in defaults.items()
        if isinstance(value, bool) or not isinstance(value, int | float)
    ]
    space = getattr(cls, "param_space", None)
    if not isinstance(space, Mapping):
        line = attr_line(cls, "param_space")
        return [*problems, located(path, line, f"{name}: param_space must be a dict")]
    for key, spec in space.items():
        problem = _range_problem(key, spec, defaults)
        if problem:
            line = attr_line(cls, "param_space", key)
            problems.append(located(path, line, f"{name}: {problem}"))
    return problems


def _range_problem(key: str, spec: object, defaults: Mapping[str, Any]) -> str | None:
    """Why one declared search range is unusable (None: it is fine)."""
    if key not in defaults:
        return f"param_space names {key!r}, which has no default"
    if not isinstance(spec, ParamRange):
        return f"param_space[{key!r}] must be a ParamRange(low, high, step)"
    if spec.low > spec.high:
        return f"range of {key}: low ({spec.low}) is above high ({spec.high})"
    if spec.step <= 0:
        return f"range of {key}: step must be above 0, got {spec.step}"
    default = defaults[key]
    if spec.is_int and not all(float(v).is_integer() for v in (spec.low, spec.high, spec.step)):
        return f"range of {key} is_int but has fractional bounds; pass is_int=False"
    if not spec.low <= default <= spec.high:
        return f"default {key}={default} is outside its range [{spec.low}, {spec.high}]"
    return None


def _behaviour_problems(cls: type[Strategy], path: Path | str) -> list[str]:
    """Build with the defaults and compute signals on synthetic bars, as the daemon will."""
    where = Path(path).resolve() if isinstance(path, Path) else None
    try:
        strategy = cls()
        warmup = strategy.warmup_bars
        history = strategy.history_bars
    except StrategyError as exc:
        return [located(path, class_line(cls), f"{cls.__name__} with its defaults: {exc}")]
    except Exception as exc:
        return [describe_failure(exc, where)]
    for what, value in (("warmup_bars", warmup), ("history_bars", history)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            line = attr_line(cls, "def " + what) or class_line(cls)
            return [
                located(
                    path, line, f"{cls.__name__}.{what} must be a whole number ≥ 1, got {value!r}"
                )
            ]
    bars = Bars.from_frame(probe_frame(max(PROBE_MIN_BARS, 2 * history)))
    try:
        shape = _shape_problem(strategy._compute(bars), len(bars))
        if shape is None:
            strategy.signals_from(bars)
    except Exception as exc:
        return [describe_failure(exc, where)]
    if shape:
        line = attr_line(cls, "def _compute")
        return [located(path, line, f"{cls.__name__}._compute must return {shape}")]
    return []


def _shape_problem(result: Any, bars: int) -> str | None:
    """What is wrong with `_compute`'s result (None: entries, exits and a stop, as promised)."""
    if not isinstance(result, tuple) or len(result) != 3:
        return "(entries, exits, stop)"
    for field, array in zip(("entries", "exits"), result[:2], strict=True):
        if not isinstance(array, np.ndarray) or array.dtype != bool or array.shape != (bars,):
            return f"{field} as a bool numpy array with one value per bar"
    stop = result[2]
    if isinstance(stop, np.ndarray):
        if stop.shape != (bars,):
            return "a per-bar stop with one value per bar"
    elif stop is not None and (isinstance(stop, bool) or not isinstance(stop, int | float)):
        return f"a stop that is None, a fraction or a per-bar array, not {stop!r}"
    elif stop is not None and not 0 <= stop < 1:
        return f"a stop fraction in [0, 1), not {stop}"
    return None


def probe_frame(bars: int) -> pd.DataFrame:
    """Deterministic hourly klines with trends and swings, on Binance's 2-decimal price grid."""
    step = np.arange(bars, dtype=np.float64)
    close = np.round(100 + 10 * np.sin(step / 15) + 4 * np.sin(step / 3.7) + step * 0.01, 2)
    opened = np.round(np.concatenate(([close[0]], close[:-1])), 2)
    volume = np.round(50 + 30 * (1 + np.sin(step / 5)), 2)
    index = pd.date_range("2020-01-01", periods=bars, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "open": opened,
            "high": np.maximum(opened, close) + 0.5,
            "low": np.minimum(opened, close) - 0.5,
            "close": close,
            "volume": volume,
        },
        index=index,
    )
