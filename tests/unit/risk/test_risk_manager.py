from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.clock import ManualClock
from thunes.domain import Action, ExitReason, Position, RejectReason
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.store import AuditTrail, Store, verify_audit
from thunes.strategy.rules import stop_loss_hit, stop_loss_price
from thunes.trading.risk import (
    RiskDecision,
    RiskLimits,
    RiskManager,
    utc_day_bounds,
)

START = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
LIMITS = RiskLimits(Decimal("20"), max_open_positions=2, cooldown=timedelta(minutes=60))


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = ManualClock(START.timestamp())
        self.store = Store.open(tmp_path / "thunes.db")
        self.sink = RecordingSink()
        bus = EventBus()
        bus.subscribe(self.sink)
        self.audit = AuditTrail(tmp_path / "audit_trail.jsonl", self.clock)
        self.risk = RiskManager(LIMITS, self.store, self.clock, bus, self.audit)

    def enter(self, symbol: str = "BTCUSDT", **kw: bool) -> RiskDecision:
        args = {"price_fresh": True, "breaker_open": False} | kw
        return self.risk.validate_trade(symbol, Action.ENTER, correlation_id="chk", **args)

    def exit(self, symbol: str = "BTCUSDT") -> RiskDecision:
        return self.risk.validate_trade(symbol, Action.EXIT, price_fresh=False, breaker_open=True)

    def hold(self, symbol: str) -> None:
        self.store.save_position(
            Position(symbol, Decimal("0.001"), Decimal("42000"), self.clock.now())
        )

    def close(self, symbol: str, pnl: str) -> None:
        now = self.clock.now()
        self.store.close_position(
            symbol, closed_at=now, realized_pnl=Decimal(pnl), exit_reason=ExitReason.SIGNAL
        )
        self.risk.record_exit(symbol, Decimal(pnl), now)

    def kill_events(self) -> int:
        return len(self.sink.of_kind(EventKind.KILL_SWITCH))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path)
    yield made
    made.store.close()


def test_clean_entry_is_approved_and_audited(rig: Rig) -> None:
    assert rig.enter() == RiskDecision(True)
    result = verify_audit(rig.audit.path)
    assert result.ok and result.entries == 1


def test_kill_switch_refuses_entries_but_never_exits(rig: Rig) -> None:
    assert rig.risk.kill("operator says stop") is True
    assert rig.risk.kill("again") is False
    decision = rig.enter()
    assert decision.reason is RejectReason.KILL_SWITCH
    assert decision.detail == "operator says stop"
    assert rig.exit().approved
    assert rig.kill_events() == 1
    assert rig.risk.resume() is True and rig.risk.resume() is False
    assert rig.enter().approved
    assert rig.kill_events() == 2


def test_pause_refuses_entries(rig: Rig) -> None:
    assert rig.risk.pause()
    assert rig.enter().reason is RejectReason.PAUSED
    assert rig.exit().approved
    assert rig.risk.unpause() and not rig.risk.unpause()
    assert rig.enter().approved


def test_max_positions_and_existing_position(rig: Rig) -> None:
    rig.hold("BTCUSDT")
    assert rig.enter("BTCUSDT").reason is RejectReason.POSITION_EXISTS
    assert rig.enter("ETHUSDT").approved
    rig.hold("ETHUSDT")
    assert rig.enter("BNBUSDT").reason is RejectReason.MAX_POSITIONS
    assert rig.exit("BTCUSDT").approved
    rig.close("ETHUSDT", "1.5")
    assert rig.enter("BNBUSDT").approved


def test_losing_exit_starts_a_cooldown_that_ends(rig: Rig) -> None:
    rig.hold("BTCUSDT")
    rig.close("BTCUSDT", "-0.50")
    decision = rig.enter("BTCUSDT")
    assert decision.reason is RejectReason.COOLDOWN
    assert rig.enter("ETHUSDT").approved  # only the losing symbol cools down
    rig.clock.advance(59 * 60)
    assert rig.enter("BTCUSDT").reason is RejectReason.COOLDOWN
    rig.clock.advance(60)
    assert rig.enter("BTCUSDT").approved


def test_winning_exit_has_no_cooldown(rig: Rig) -> None:
    rig.hold("BTCUSDT")
    rig.close("BTCUSDT", "0.01")
    assert rig.enter("BTCUSDT").approved


def test_breaker_and_stale_price_refuse_entries_only(rig: Rig) -> None:
    assert rig.enter(breaker_open=True).reason is RejectReason.BREAKER_OPEN
    assert rig.enter(price_fresh=False).reason is RejectReason.STALE_PRICE
    assert rig.exit().approved


def test_daily_loss_trips_the_kill_switch_once_and_alerts_once(rig: Rig) -> None:
    for n, pnl in enumerate(["-8", "3", "-10"]):
        rig.hold(f"S{n}USDT")
        rig.close(f"S{n}USDT", pnl)
    assert rig.risk.daily_loss_used() == Decimal("15")
    assert rig.enter("XRPUSDT").approved
    rig.hold("S3USDT")
    rig.close("S3USDT", "-5.000001")  # net day: -20.000001
    assert rig.risk.daily_loss_used() == Decimal("20.000001")
    state = rig.store.risk_state()
    assert state.kill_switch and state.kill_day == date(2024, 3, 1)
    assert "daily loss limit" in state.kill_reason
    for _ in range(3):
        assert rig.enter("XRPUSDT").reason is RejectReason.KILL_SWITCH
    assert rig.kill_events() == 1
    assert rig.exit("XRPUSDT").approved


def test_daily_loss_found_at_check_time_trips_and_reports_it(rig: Rig) -> None:
    # losses written by another component without record_exit (e.g. reconciliation)
    rig.hold("BTCUSDT")
    rig.store.close_position(
        "BTCUSDT",
        closed_at=rig.clock.now(),
        realized_pnl=Decimal("-20"),
        exit_reason=ExitReason.STOP_LOSS,
    )
    assert rig.enter("ETHUSDT").reason is RejectReason.DAILY_LOSS_LIMIT
    assert rig.enter("ETHUSDT").reason is RejectReason.KILL_SWITCH
    assert rig.kill_events() == 1


def test_resume_on_the_same_day_is_not_overruled_and_next_day_trades(rig: Rig) -> None:
    rig.hold("BTCUSDT")
    rig.close("BTCUSDT", "-25")
    assert rig.risk.resume()
    for _ in range(2):
        assert rig.enter("ETHUSDT").reason is RejectReason.DAILY_LOSS_LIMIT
    assert not rig.store.risk_state().kill_switch
    assert rig.kill_events() == 2  # the trip, then the resume; no second trip
    rig.clock.set(datetime(2024, 3, 2, 0, 0, tzinfo=UTC).timestamp())
    assert rig.risk.daily_loss_used() == Decimal("0")
    assert rig.enter("ETHUSDT").approved


def test_state_is_read_fresh_from_the_store_every_time(rig: Rig, tmp_path: Path) -> None:
    assert rig.enter().approved
    with Store.open(tmp_path / "thunes.db") as other:  # another process's view of the file
        other.set_kill_switch(True, "from elsewhere", rig.clock.now())
    assert rig.enter().reason is RejectReason.KILL_SWITCH


def test_decisions_and_switches_are_in_the_audit_trail(rig: Rig) -> None:
    rig.risk.kill("stop")
    rig.enter()
    rig.exit()
    entries = [json.loads(line) for line in rig.audit.path.read_text().splitlines()]
    kinds = [(e["kind"], e["data"].get("reason")) for e in entries]
    assert kinds == [("kill_switch", "stop"), ("decision", "KILL_SWITCH"), ("decision", None)]
    assert entries[1]["correlation_id"] == "chk"
    assert verify_audit(rig.audit.path).ok


def test_stop_loss_uses_the_actual_average_fill_price() -> None:
    position = Position("BTCUSDT", Decimal("0.001"), Decimal("42123.45"), START)
    entry = position.avg_entry_price
    assert stop_loss_price(entry, Decimal("0.03")) == Decimal("40859.7465")
    assert stop_loss_hit(entry, Decimal("40859.7465"), Decimal("0.03"))
    assert not stop_loss_hit(entry, Decimal("40859.7466"), Decimal("0.03"))
    assert not stop_loss_hit(entry, Decimal("1"), Decimal("0"))


def test_utc_day_bounds() -> None:
    start, end = utc_day_bounds(datetime(2024, 3, 1, 23, 59, tzinfo=UTC))
    assert (start, end) == (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC))
