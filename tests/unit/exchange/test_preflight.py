"""Live-mode key restrictions: a key that can withdraw is refused (hand-written gateway stub)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from thunes.config import Mode, Settings
from thunes.exchange.preflight import preflight
from thunes.exchange.types import AuthError


@dataclass
class Report:
    offset_ms: float


class StubGateway:
    def __init__(self, restrictions: dict[str, Any], offset_ms: float = 12.0) -> None:
        self.restrictions = restrictions
        self.offset_ms = offset_ms
        self.closed = False

    async def ping(self) -> None:
        return None

    async def sync_time(self) -> Report:
        return Report(self.offset_ms)

    async def account(self) -> dict[str, Any]:
        return {"canTrade": True}

    async def api_restrictions(self) -> dict[str, Any]:
        return self.restrictions

    async def close(self) -> None:
        self.closed = True


LIVE = Settings(
    _env_file=None,
    mode=Mode.LIVE,
    live_confirm=True,
    api_key=SecretStr("k"),
    api_secret=SecretStr("s"),
)
TRADE_ONLY = {"enableSpotAndMarginTrading": True, "enableWithdrawals": False, "ipRestrict": True}


async def test_withdraw_enabled_key_is_refused_in_live_mode() -> None:
    stub = StubGateway({**TRADE_ONLY, "enableWithdrawals": True})
    checks = await preflight(LIVE, gateway=stub)
    last = checks[-1]
    assert (last.name, last.status) == ("API key restrictions", "fail")
    assert "withdraw" in last.detail
    assert not stub.closed  # a gateway the caller owns stays open


async def test_trade_only_ip_restricted_key_passes_and_unrestricted_ip_warns() -> None:
    ok = await preflight(LIVE, gateway=StubGateway(TRADE_ONLY))
    assert [c.status for c in ok] == ["ok", "ok", "ok", "ok"]
    open_ip = await preflight(LIVE, gateway=StubGateway({**TRADE_ONLY, "ipRestrict": False}))
    assert open_ip[-1].status == "warn"
    no_spot = {**TRADE_ONLY, "enableSpotAndMarginTrading": False}
    assert (await preflight(LIVE, gateway=StubGateway(no_spot)))[-1].status == "fail"


async def test_large_drift_fails_and_restrictions_are_only_checked_live() -> None:
    checks = await preflight(Settings(_env_file=None), gateway=StubGateway({}, 7000.0))
    assert [c.name for c in checks] == ["exchange reachable", "clock drift", "API key"]
    assert checks[1].status == "fail"


async def test_auth_error_detail_never_includes_secrets() -> None:
    class Refusing(StubGateway):
        async def account(self) -> dict[str, Any]:
            raise AuthError(-2015, "Invalid API-key, IP, or permissions for action.")

    checks = await preflight(LIVE, gateway=Refusing(TRADE_ONLY))
    key = next(c for c in checks if c.name == "API key")
    assert key.status == "fail" and "-2015" in key.detail
