from __future__ import annotations

import pytest

from tests.unit.trading.fakes import FakeGateway, FakeRisk, RecordingAudit
from thunes.clock import ManualClock
from thunes.store import Store
from thunes.trading.executor import Executor


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_672_531_200.0 + 120 * 3600)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def risk() -> FakeRisk:
    return FakeRisk()


@pytest.fixture
def executor(gateway: FakeGateway, store: Store, clock: ManualClock, audit: RecordingAudit, risk: FakeRisk) -> Executor:
    return Executor(gateway, store, clock, audit=audit, risk=risk, resolve_attempts=3,
                    resolve_backoff=1.0, order_window_seconds=15.0)
