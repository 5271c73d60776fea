"""Checks `thunes doctor` runs before trading: reachable, clock in sync, key valid, key safe.

Each check returns a `PreflightCheck`; nothing raises. A live key that can withdraw is a
failure: THUNES never trades with a key that could move funds off the exchange.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from thunes.clock import Clock, SystemClock
from thunes.config import Mode, Settings
from thunes.exchange.types import AuthError, ExchangeError

Status = Literal["ok", "warn", "fail"]
DRIFT_WARN_MS = 500.0
DRIFT_FAIL_MS = 5000.0


@dataclass(frozen=True, slots=True)
class PreflightCheck:
    name: str
    status: Status
    detail: str


class PreflightGateway(Protocol):
    """What preflight needs from `BinanceGateway` (a stub in tests)."""

    async def ping(self) -> None: ...

    async def sync_time(self) -> Any: ...

    async def account(self) -> dict[str, Any]: ...

    async def api_restrictions(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


async def preflight(
    settings: Settings,
    clock: Clock | None = None,
    api_url: str | None = None,
    gateway: PreflightGateway | None = None,
) -> list[PreflightCheck]:
    """Run every check against the configured exchange (or the given gateway).

    In `sim` mode the caller says where the simulator is (`api_url`); starting one is the
    composition root's job (`thunes.app.exchange_checks`), not the exchange boundary's.
    """
    if gateway is None and api_url is None and settings.mode is Mode.SIM:
        detail = "sim mode: no simulator address given (the application starts the simulator)"
        return [PreflightCheck("exchange reachable", "fail", detail)]
    owned = gateway is None
    if gateway is None:
        from thunes.exchange.factory import build_gateway

        gateway = await build_gateway(settings, clock or SystemClock(), api_url=api_url)
    try:
        return await run_checks(settings, gateway)
    finally:
        if owned:
            await gateway.close()


async def run_checks(settings: Settings, gateway: PreflightGateway) -> list[PreflightCheck]:
    reach = await _reachability(gateway)
    checks = [reach]
    if reach.status == "fail":
        return checks
    checks.append(await _clock_drift(gateway))
    checks.append(await _key_validity(settings, gateway))
    if settings.mode is Mode.LIVE:
        checks.append(await _key_restrictions(gateway))
    return checks


async def _reachability(gateway: PreflightGateway) -> PreflightCheck:
    try:
        await gateway.ping()
    except ExchangeError as error:
        return PreflightCheck("exchange reachable", "fail", str(error))
    return PreflightCheck("exchange reachable", "ok", "ping answered")


async def _clock_drift(gateway: PreflightGateway) -> PreflightCheck:
    try:
        report = await gateway.sync_time()
    except ExchangeError as error:
        return PreflightCheck("clock drift", "fail", f"server time unavailable: {error}")
    offset = float(report.offset_ms)
    detail = f"local clock differs from the exchange by {offset:+.0f} ms (corrected)"
    if abs(offset) >= DRIFT_FAIL_MS:
        return PreflightCheck("clock drift", "fail", detail + "; fix the system clock (NTP)")
    if abs(offset) >= DRIFT_WARN_MS:
        return PreflightCheck("clock drift", "warn", detail)
    return PreflightCheck("clock drift", "ok", detail)


async def _key_validity(settings: Settings, gateway: PreflightGateway) -> PreflightCheck:
    if settings.mode is not Mode.SIM and not settings.has_keys:
        return PreflightCheck("API key", "fail", "no API key configured")
    try:
        account = await gateway.account()
    except AuthError as error:
        return PreflightCheck("API key", "fail", f"key refused: {error.message} ({error.code})")
    except ExchangeError as error:
        return PreflightCheck("API key", "fail", f"account unavailable: {error}")
    if not account.get("canTrade", True):
        return PreflightCheck("API key", "fail", "the account cannot trade")
    return PreflightCheck("API key", "ok", "signed request accepted; trading allowed")


async def _key_restrictions(gateway: PreflightGateway) -> PreflightCheck:
    try:
        restrictions = await gateway.api_restrictions()
    except ExchangeError as error:
        return PreflightCheck("API key restrictions", "fail", f"cannot read them: {error}")
    if restrictions.get("enableWithdrawals"):
        return PreflightCheck(
            "API key restrictions", "fail", "the key can withdraw: create a trade-only key"
        )
    if not restrictions.get("enableSpotAndMarginTrading", False):
        return PreflightCheck("API key restrictions", "fail", "spot trading is not enabled")
    if not restrictions.get("ipRestrict", False):
        return PreflightCheck(
            "API key restrictions", "warn", "no IP restriction: limit the key to this server"
        )
    return PreflightCheck("API key restrictions", "ok", "trade-only, IP restricted")
