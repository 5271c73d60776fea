"""The risk manager: pure decisions over persisted state, re-read at every check.

Nothing is cached: the kill-switch, pause, cool-downs, the day's realised PnL and the open
positions *and entry orders still in flight* come from the store on every call, so a
`thunes kill` from another shell (or a Telegram command) changes the running daemon's next
decision. A degraded audit trail (full or unwritable log disk) refuses entries too. Only
entries are ever refused; exits always pass, so a position
can be closed while the kill-switch is on.

The daily-loss rule trips the kill-switch once per UTC day (`kill_day` remembers it): the alert
is sent once, and an operator who resumes on the same day is not overruled by a second trip,
though entries stay refused until the next UTC day begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from thunes.clock import Clock
from thunes.domain import ZERO, Action, RejectReason, Side
from thunes.events import Event, EventBus, EventKind
from thunes.store import AuditTrail, RiskState, Store
from thunes.strategy.rules import TradingRules
from thunes.trading.orders import IN_FLIGHT


@dataclass(frozen=True)
class RiskLimits:
    daily_loss_limit: Decimal
    max_open_positions: int
    cooldown: timedelta

    @classmethod
    def from_rules(cls, rules: TradingRules) -> RiskLimits:
        """The limits of the rules the backtest also trades with (one source for both)."""
        return cls(
            daily_loss_limit=rules.daily_loss_limit,
            max_open_positions=rules.max_open_positions,
            cooldown=rules.cooldown,
        )


@dataclass(frozen=True)
class RiskDecision:
    approved: bool
    reason: RejectReason | None = None
    detail: str = ""


APPROVED = RiskDecision(True)


def utc_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the UTC day containing `now`."""
    start = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


class RiskManager:
    """Approves or refuses trades; owns the kill-switch, pause and cool-down transitions."""

    def __init__(
        self,
        limits: RiskLimits,
        store: Store,
        clock: Clock,
        events: EventBus | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        self.limits = limits
        self._store = store
        self._clock = clock
        self._events = events
        self._audit = audit

    # ---- decisions ----

    def validate_trade(
        self,
        symbol: str,
        action: Action,
        *,
        price_fresh: bool,
        breaker_open: bool,
        correlation_id: str = "",
    ) -> RiskDecision:
        """Exits (and holds) always pass; an entry must clear every rule, in a fixed order."""
        if action is Action.ENTER:
            decision = self._check_entry(symbol, price_fresh, breaker_open, correlation_id)
        else:
            decision = RiskDecision(True, detail=f"{action.value.lower()} is never refused")
        self._record(
            "decision",
            correlation_id,
            symbol=symbol,
            action=action,
            approved=decision.approved,
            reason=decision.reason,
            detail=decision.detail,
        )
        return decision

    def _check_entry(
        self, symbol: str, price_fresh: bool, breaker_open: bool, correlation_id: str
    ) -> RiskDecision:
        now = self._clock.now()
        state = self._store.risk_state()
        if state.kill_switch:
            return RiskDecision(False, RejectReason.KILL_SWITCH, state.kill_reason)
        loss = self._daily_loss(now)
        if loss >= self.limits.daily_loss_limit:
            self._trip_daily_loss(state, loss, now, correlation_id)
            return RiskDecision(False, RejectReason.DAILY_LOSS_LIMIT, self._loss_text(loss))
        if state.paused:
            return RiskDecision(False, RejectReason.PAUSED, "entries are paused")
        degraded = getattr(self._audit, "degraded", None)
        if degraded:
            return RiskDecision(False, RejectReason.AUDIT_DEGRADED, str(degraded))
        return self._check_book(symbol, state, now, price_fresh, breaker_open)

    def _check_book(
        self, symbol: str, state: RiskState, now: datetime, price_fresh: bool, breaker_open: bool
    ) -> RiskDecision:
        if self._store.open_position(symbol) is not None:
            return RiskDecision(False, RejectReason.POSITION_EXISTS, f"{symbol} already held")
        held = len(self.committed_symbols() - {symbol})
        if held >= self.limits.max_open_positions:
            return RiskDecision(
                False,
                RejectReason.MAX_POSITIONS,
                f"{held} open positions or entries (max {self.limits.max_open_positions})",
            )
        until = state.cooldowns.get(symbol)
        if until is not None and now < until:
            return RiskDecision(
                False, RejectReason.COOLDOWN, f"{symbol} cooling down until {until.isoformat()}"
            )
        if breaker_open:
            return RiskDecision(False, RejectReason.BREAKER_OPEN, "order breaker is open")
        if not price_fresh:
            return RiskDecision(False, RejectReason.STALE_PRICE, f"{symbol} price is stale")
        return APPROVED

    def committed_symbols(self) -> set[str]:
        """Symbols holding a position or an entry order not finished yet: both count."""
        held = {p.symbol for p in self._store.open_positions()}
        entering = {
            o.symbol for o in self._store.orders_in_states(IN_FLIGHT) if str(o.side) == Side.BUY
        }
        return held | entering

    # ---- state changes ----

    def record_exit(self, symbol: str, realized_pnl: Decimal, now: datetime) -> None:
        """After a closed position is stored: a losing exit starts the symbol's cool-down,
        and the day's losses (read from the store) may trip the kill-switch."""
        if realized_pnl < ZERO and self.limits.cooldown > timedelta(0):
            until = now + self.limits.cooldown
            self._store.set_cooldown(symbol, until)
            self._record("cooldown", symbol=symbol, until=until, realized_pnl=realized_pnl)
        state = self._store.risk_state()
        loss = self._daily_loss(now)
        if not state.kill_switch and loss >= self.limits.daily_loss_limit:
            self._trip_daily_loss(state, loss, now, "")

    def kill(self, reason: str) -> bool:
        """Turn the kill-switch on (entries stop until `resume`); True if it changed."""
        changed = self._store.set_kill_switch(True, reason, self._clock.now())
        if changed:
            self._announce(True, reason, "")
        return changed

    def resume(self) -> bool:
        """Turn the kill-switch off; True if it changed."""
        changed = self._store.set_kill_switch(False, "", self._clock.now())
        if changed:
            self._announce(False, "resumed", "")
        return changed

    def pause(self) -> bool:
        return self._set_paused(True)

    def unpause(self) -> bool:
        return self._set_paused(False)

    def daily_loss_used(self) -> Decimal:
        """Today's (UTC) realised loss net of fees, as a positive number; 0 on a winning day."""
        return self._daily_loss(self._clock.now())

    # ---- internals ----

    def _daily_loss(self, now: datetime) -> Decimal:
        start, end = utc_day_bounds(now)
        pnl = self._store.realized_pnl(start, end)
        return -pnl if pnl < ZERO else ZERO

    def _loss_text(self, loss: Decimal) -> str:
        return f"daily loss limit reached: {loss} >= {self.limits.daily_loss_limit} (UTC day)"

    def _trip_daily_loss(
        self, state: RiskState, loss: Decimal, now: datetime, correlation_id: str
    ) -> None:
        today: date = now.astimezone(UTC).date()
        if state.kill_day == today:
            return  # already tripped today: no second alert, no overruling a same-day resume
        reason = self._loss_text(loss)
        if self._store.set_kill_switch(True, reason, now, kill_day=today):
            self._announce(True, reason, correlation_id, daily_loss=loss)

    def _set_paused(self, on: bool) -> bool:
        changed = self._store.set_paused(on)
        if changed:
            self._record("kill_switch", switch="pause", on=on)
            self._publish(EventKind.LIFECYCLE, "Entries paused" if on else "Entries unpaused", "")
        return changed

    def _announce(self, on: bool, reason: str, correlation_id: str, **extra: Any) -> None:
        self._record("kill_switch", correlation_id, switch="kill", on=on, reason=reason, **extra)
        title = f"Kill-switch ON: {reason}" if on else "Kill-switch OFF: trading resumed"
        self._publish(EventKind.KILL_SWITCH, title, correlation_id, on=on, reason=reason, **extra)

    def _publish(self, kind: EventKind, title: str, correlation_id: str, **data: Any) -> None:
        if self._events is not None:
            event = Event(kind, title, self._clock.now(), data, correlation_id)
            self._events.publish(event)

    def _record(self, kind: str, correlation_id: str = "", **data: object) -> None:
        if self._audit is not None:
            self._audit.record(kind, correlation_id, **data)
