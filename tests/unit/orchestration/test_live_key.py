from __future__ import annotations

from typing import Any

import pytest

from thunes.app.compose import PipelineReconciler
from thunes.app.live_key import KeyRefused, LiveKeyGate
from thunes.exchange.types import TemporaryError


class Permissions:
    """Answers the key's permissions, or fails like an unreachable exchange."""

    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.answer is None:
            raise TemporaryError("exchange unreachable")
        return self.answer


TRADE_ONLY = {"enableWithdrawals": False, "enableSpotAndMarginTrading": True, "ipRestrict": True}


class StubPipeline:
    def __init__(self) -> None:
        self.starts = 0
        self.checks = 0

    async def reconcile(self) -> Any:
        self.starts += 1
        return "reconciled"

    async def run_check(self, correlation_id: str | None = None) -> Any:
        self.checks += 1
        return "checked"


async def test_a_key_that_can_withdraw_is_refused() -> None:
    gate = LiveKeyGate(Permissions({**TRADE_ONLY, "enableWithdrawals": True}), required=True)
    with pytest.raises(KeyRefused, match="withdraw"):
        await gate.verify()
    assert not gate.verified


async def test_a_key_without_spot_trading_is_refused() -> None:
    gate = LiveKeyGate(Permissions({**TRADE_ONLY, "enableSpotAndMarginTrading": False}), True)
    with pytest.raises(KeyRefused, match="spot"):
        await gate.verify()


async def test_not_required_outside_live_mode() -> None:
    permissions = Permissions(None)
    assert await LiveKeyGate(permissions, required=False).verify() is None
    assert permissions.calls == 0


async def test_no_trading_until_the_permissions_can_be_read() -> None:
    permissions = Permissions(None)
    pipeline = StubPipeline()
    reconciler = PipelineReconciler(pipeline, LiveKeyGate(permissions, required=True))  # type: ignore[arg-type]
    report = await reconciler.reconcile()
    assert not report.ok and "not verified" in report.error
    assert pipeline.starts == 0
    permissions.answer = TRADE_ONLY
    assert await reconciler.reconcile() == "reconciled"
    assert pipeline.starts == 1
    assert permissions.calls == 2


async def test_no_check_runs_until_the_live_key_is_verified() -> None:
    permissions = Permissions(None)
    pipeline = StubPipeline()
    gated = PipelineReconciler(pipeline, LiveKeyGate(permissions, required=True))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="not verified"):
        await gated.run_check()
    assert pipeline.checks == 0
    permissions.answer = TRADE_ONLY
    assert await gated.run_check() == "checked" and pipeline.checks == 1
