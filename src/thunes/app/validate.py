"""What `thunes run` needs, checked before anything starts; `thunes doctor` runs the same code.

A problem here is one the operator fixes in the settings (exit 2, one line each), so it must be
found before the daemon starts: under systemd's `RestartPreventExitStatus=2` a refusal stops
the unit, while a crash later would restart it forever. Doctor reports each line as a failure,
so it never says ok where `run` would refuse.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Protocol

from thunes.config import ENV_PREFIX, Mode, Settings, SettingsError
from thunes.exchange.errors import BAD_SYMBOL_CODE
from thunes.exchange.types import InvalidRequestError, SymbolRules
from thunes.intervals import INTERVAL_MS
from thunes.market.klines import KlineFileError
from thunes.orchestration.health import cannot_listen
from thunes.orchestration.sim_runtime import SimSetupError, sim_data
from thunes.sim.replay import UnknownInterval, load_replay
from thunes.strategy import StrategyError
from thunes.strategy_files import resolve as resolve_strategy


class SymbolSource(Protocol):
    """What the listing check needs from the exchange gateway (a stub in tests)."""

    async def symbol_rules(self, symbol: str) -> SymbolRules: ...


def refuse(problems: list[str]) -> None:
    """Stop with exit code 2 and one line per problem, if there is any."""
    if problems:
        raise SettingsError(problems)


def strategy_problems(settings: Settings) -> list[str]:
    """The strategy loads (built-in, folder, file or module) and keeps the contract."""
    try:
        resolve_strategy(settings.strategy, settings.strategy_dir)
    except StrategyError as exc:
        return [f"{ENV_PREFIX}STRATEGY: {exc}"]
    return []


def _interval_name(ms: int) -> str:
    names = [name for name, length in INTERVAL_MS.items() if length == ms]
    return names[0] if names else f"{ms // 1000}s"


def _data_problems(settings: Settings, symbol: str, path: Path) -> list[str]:
    """The replay file exists, is kline data, and can make bars of the timeframe."""
    try:
        replay = load_replay(symbol, path)
    except OSError as exc:
        return [f"{ENV_PREFIX}SIM_DATA: {path}: {exc.strerror or exc}"]
    except KlineFileError as exc:
        return [f"{ENV_PREFIX}SIM_DATA: {exc}"]
    try:
        replay.interval_ms(settings.timeframe)
    except UnknownInterval:
        base = _interval_name(replay.base_interval_ms)
        return [
            f"{ENV_PREFIX}TIMEFRAME: {settings.timeframe} cannot be made from the {base} bars "
            f"of {path.name} ({symbol}); use {base} or a multiple of it"
        ]
    return []


def sim_problems(settings: Settings) -> list[str]:
    """Sim mode: kline data for every symbol, at a base interval the timeframe is built from."""
    try:
        data = sim_data(settings)
    except SimSetupError as exc:
        return [str(exc)]
    problems: list[str] = []
    for symbol, path in data.items():
        problems += _data_problems(settings, symbol, path)
    return problems


async def listing_problems(settings: Settings, exchange: SymbolSource) -> list[str]:
    """Testnet and live: the exchange lists each symbol, it is TRADING, and open to spot.

    An exchange that does not answer raises `ExchangeError`: the caller decides (the daemon
    starts without trading and retries; doctor reports it).
    """
    where = "the testnet" if settings.mode is Mode.TESTNET else "Binance"
    problems: list[str] = []
    for symbol in settings.symbols:
        try:
            rules = await exchange.symbol_rules(symbol)
        except InvalidRequestError as exc:
            if exc.code != BAD_SYMBOL_CODE:
                raise
            problems.append(f"{ENV_PREFIX}SYMBOLS: {symbol} is not listed on {where}")
            continue
        status = rules.extra.get("status", "TRADING")
        if status != "TRADING":
            problems.append(
                f"{ENV_PREFIX}SYMBOLS: {symbol} is not trading on {where} (status {status})"
            )
        elif rules.extra.get("isSpotTradingAllowed", "True").lower() != "true":
            problems.append(f"{ENV_PREFIX}SYMBOLS: {symbol} is not open to spot trading on {where}")
    return problems


def health_port_problems(settings: Settings) -> list[str]:
    """The health endpoint's port is free (0 picks a free one), bound as aiohttp binds it."""
    if settings.health_port == 0:
        return []
    family = socket.AF_INET6 if ":" in settings.health_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.health_host, settings.health_port))
        except OSError as exc:
            return [cannot_listen(settings.health_host, settings.health_port, exc)]
    return []


def web_port_problems(settings: Settings) -> list[str]:
    """The dashboard's port is free, when the dashboard starts (a token is set)."""
    from thunes.web.server import cannot_listen as web_cannot_listen

    if settings.web_port == 0 or not settings.api_token.get_secret_value():
        return []
    family = socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.web_host, settings.web_port))
        except OSError as exc:
            return [web_cannot_listen(settings.web_host, settings.web_port, exc)]
    return []


async def run_problems(settings: Settings, exchange: SymbolSource | None = None) -> list[str]:
    """Every problem that would make `run` refuse; the listing only when `exchange` is given."""
    problems = strategy_problems(settings) + health_port_problems(settings)
    problems += web_port_problems(settings)
    if settings.mode is Mode.SIM:
        problems += sim_problems(settings)
    elif exchange is not None:
        problems += await listing_problems(settings, exchange)
    return problems


async def doctor_problems(settings: Settings, *, ask_exchange: bool) -> list[str]:
    """`run_problems` for `thunes doctor`, with a short-lived gateway for the listing.

    An exchange that does not answer raises `ExchangeError` (doctor reports it).
    """
    if not ask_exchange or settings.mode is Mode.SIM:
        return await run_problems(settings)
    from thunes.clock import SystemClock
    from thunes.exchange.factory import build_gateway
    from thunes.exchange.retry import RetryPolicy

    gateway = await build_gateway(settings, SystemClock(), retry=RetryPolicy(attempts=1))
    try:
        return await run_problems(settings, gateway)
    finally:
        await gateway.close()
