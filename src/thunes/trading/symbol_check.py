"""One symbol's check, stage by stage (see `thunes.trading.pipeline` for the whole check)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from thunes.domain import (
    Action,
    ExitReason,
    OrderIntent,
    OrderState,
    Position,
    RejectReason,
    Side,
    Signal,
    StageResult,
    client_order_id,
)
from thunes.exchange.types import ExchangeError, SymbolRules
from thunes.strategy import latest_signal
from thunes.trading.executor import ExecutionResult
from thunes.trading.orders import IN_FLIGHT, never_reached
from thunes.trading.portfolio import sell_quantity
from thunes.trading.results import Outcome, SymbolCheckResult

if TYPE_CHECKING:
    from thunes.trading.pipeline import CheckPipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    signal: Signal
    bar_time: datetime
    exit_reason: ExitReason | None = None
    detail: str = ""

    def client_order_id(self, symbol: str) -> str:
        bar_ms = int(pd.Timestamp(self.bar_time).timestamp() * 1000)
        return client_order_id(f"{symbol}:{bar_ms}:{self.action.value}", symbol, self.side)

    @property
    def side(self) -> Side:
        return Side.BUY if self.action is Action.ENTER else Side.SELL


class SymbolCheck:
    """Runs the stages for one symbol and records each one's result and time."""

    def __init__(
        self, pipeline: CheckPipeline, symbol: str, correlation_id: str, started_at: datetime
    ) -> None:
        self.p = pipeline
        self.symbol = symbol
        self.cid = correlation_id
        self.started_at = started_at
        self.stages: dict[str, StageResult[Any]] = {}
        self._t = time.perf_counter()
        self.signal: Signal | None = None
        self.price: Decimal | None = None
        self.bar_time: datetime | None = None

    def _stage(self, name: str, output: Any = None, ok: bool = True, error: str | None = None,
               **details: object) -> None:
        now = time.perf_counter()
        self.stages[name] = StageResult(ok, output, error, (now - self._t) * 1000, dict(details))
        self._t = now

    def result(self, outcome: Outcome, action: Action = Action.HOLD, *,
               reason: RejectReason | None = None, detail: str = "",
               execution: ExecutionResult | None = None) -> SymbolCheckResult:
        return SymbolCheckResult(
            self.symbol, self.cid, outcome, action, self.signal, reason, detail, self.price,
            execution, dict(self.stages), 0.0, self.bar_time,
        )

    def error_result(self, error: str) -> SymbolCheckResult:
        stage = next((n for n in _STAGES if n not in self.stages), "report")
        self._stage(stage, ok=False, error=error)
        return self.result(Outcome.ERROR, detail=f"{stage}: {error}")

    async def run(self) -> SymbolCheckResult:
        rules = await self.p.rules_for(self.symbol)
        frame = await self.p.klines.closed(self.symbol, self.p.clock.time())
        price, fresh = await self._price()
        self.price = price
        self._stage("market_data", len(frame), bars=len(frame), price=price, fresh=fresh)
        position = self.p.store.open_position(self.symbol)
        decision = self._decide(frame, position, price)
        self._stage("signal", decision.action, reason=decision.detail)
        if decision.action is Action.HOLD:
            return self._report(self.result(Outcome.HOLD, detail=decision.detail), decision)
        coid = decision.client_order_id(self.symbol)
        blocked = self._already_decided(coid)
        if blocked is not None:
            return self._report(await self._resume(blocked, coid, decision, rules), decision)
        verdict = self.p.risk.validate_trade(
            self.symbol, decision.action, price_fresh=fresh,
            breaker_open=self.p.gateway.breaker_open("orders"), correlation_id=self.cid,
        )
        self._stage("risk", verdict.approved, reason=str(verdict.reason or ""))
        if not verdict.approved:
            reason = RejectReason(str(verdict.reason)) if verdict.reason else None
            result = self.result(Outcome.REJECTED, decision.action, reason=reason,
                                 detail=verdict.detail)
            return self._report(result, decision)
        intent_or_result = self._size(decision, coid, rules, price, position)
        if isinstance(intent_or_result, SymbolCheckResult):
            return self._report(intent_or_result, decision)
        execution = await self.p.executor.execute(intent_or_result, rules, self.started_at)
        self._stage("execution", execution.state, sent=execution.sent)
        return self._report(self._from_execution(decision, execution), decision)

    async def _price(self) -> tuple[Decimal, bool]:
        """The stream's price if fresh, else the REST price; `fresh` False if only a stale one."""
        quote = self.p.prices.latest(self.symbol) if self.p.prices is not None else None
        staleness = self.p.config.price_staleness_seconds
        if quote is not None and quote.age(self.p.clock.time()) <= staleness:
            return quote.mid, True
        try:
            return await self.p.gateway.price(self.symbol), True
        except ExchangeError:
            if quote is None:
                raise
            return quote.mid, False

    def _decide(self, frame: pd.DataFrame, position: Position | None, price: Decimal) -> Decision:
        cfg = self.p.config
        signal = latest_signal(self.p.strategy, frame, cfg.min_confidence)
        self.signal = signal
        bar_time = signal.bar_time or pd.Timestamp(frame.index[-1]).to_pydatetime()
        self.bar_time = bar_time
        if position is not None and position.is_open:
            stop = signal.stop_loss_pct if signal.stop_loss_pct is not None else cfg.stop_loss_pct
            if stop > 0 and price <= position.avg_entry_price * (1 - stop):
                detail = f"stop-loss: {price} <= {position.avg_entry_price} × (1 − {stop})"
                return Decision(Action.EXIT, signal, bar_time, ExitReason.STOP_LOSS, detail)
            if signal.action is Action.EXIT:
                return Decision(Action.EXIT, signal, bar_time, ExitReason.SIGNAL, signal.reason)
            detail = "holding" if signal.action is Action.HOLD else "already holding"
            return Decision(Action.HOLD, signal, bar_time, detail=f"{detail}: {signal.reason}")
        if signal.action is Action.ENTER:
            return Decision(Action.ENTER, signal, bar_time, detail=signal.reason)
        detail = "nothing to exit" if signal.action is Action.EXIT else signal.reason
        return Decision(Action.HOLD, signal, bar_time, detail=detail)

    def _already_decided(self, coid: str) -> str | None:
        """Why no new order may be sent: an order of this decision or symbol is out or done."""
        record = self.p.store.get_order(coid)
        if record is not None:
            resendable = record.state is OrderState.NEW_INTENT or (
                never_reached(record.error) and record.updated_at < self.started_at
            )
            if not resendable:
                return "decided"
        others = [
            r for r in self.p.store.orders_in_states(IN_FLIGHT)
            if r.symbol == self.symbol and r.client_order_id != coid
        ]
        if others:
            return "in_flight:" + ",".join(r.client_order_id for r in others)
        return None

    async def _resume(self, blocked: str, coid: str, decision: Decision,
                      rules: SymbolRules) -> SymbolCheckResult:
        if blocked.startswith("in_flight:"):
            detail = f"order(s) in flight: {blocked.removeprefix('in_flight:')}"
            self._stage("risk", False, reason="in_flight")
            return self.result(Outcome.SKIPPED, decision.action, detail=detail)
        record = self.p.store.get_order(coid)
        assert record is not None
        intent = OrderIntent(coid, self.symbol, decision.side, correlation_id=self.cid)
        execution = await self.p.executor.execute(intent, rules, self.started_at)
        self._stage("execution", execution.state, sent=execution.sent, resumed=True)
        result = self._from_execution(decision, execution)
        if result.outcome in (Outcome.ENTERED, Outcome.EXITED, Outcome.FAILED):
            return replace(result, outcome=Outcome.SKIPPED,
                           detail=f"decision already made: {execution.state.value}")
        return result

    def _size(self, decision: Decision, coid: str, rules: SymbolRules, price: Decimal,
              position: Position | None) -> OrderIntent | SymbolCheckResult:
        if decision.action is Action.ENTER:
            quote = self.p.config.quote_amount
            qty = rules.round_quantity(quote / price, market=True) if price > 0 else Decimal(0)
            violation = rules.check(price, qty, market=True)
            self._stage("sizing", quote, ok=violation is None, quantity=qty)
            if violation is not None:
                return self.result(Outcome.REJECTED, decision.action, reason=violation.reason,
                                   detail=violation.message)
            return OrderIntent(coid, self.symbol, Side.BUY, quote_quantity=quote,
                               correlation_id=self.cid)
        assert position is not None
        qty, dust = sell_quantity(position, rules, price)
        self._stage("sizing", qty, quantity=qty, dust=dust)
        if qty <= 0:
            return self._close_dust(position, price, decision)
        return OrderIntent(coid, self.symbol, Side.SELL, quantity=qty, correlation_id=self.cid,
                           exit_reason=decision.exit_reason)

    def _close_dust(self, position: Position, price: Decimal,
                    decision: Decision) -> SymbolCheckResult:
        """A position too small to sell is closed as dust (valued at `price`), never retried."""
        pnl = position.quantity * price - position.cost_basis
        now = self.p.clock.now()
        self.p.store.close_position(self.symbol, closed_at=now, realized_pnl=pnl,
                                    exit_reason=decision.exit_reason or ExitReason.SIGNAL)
        self.p.risk.record_exit(self.symbol, pnl, now)
        self.p.audit.record("position_closed", self.cid, symbol=self.symbol, realized_pnl=pnl,
                            dust=position.quantity, exit_reason=decision.exit_reason)
        return self.result(Outcome.DUST, decision.action, reason=RejectReason.DUST,
                           detail=f"{position.quantity} below the minimum: closed as dust")

    def _from_execution(self, decision: Decision, ex: ExecutionResult) -> SymbolCheckResult:
        if ex.fills and ex.state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED,
                                     OrderState.EXPIRED, OrderState.CANCELED):
            outcome = Outcome.ENTERED if decision.action is Action.ENTER else Outcome.EXITED
            return self.result(outcome, decision.action, detail=ex.detail, execution=ex)
        if ex.state.in_flight:
            return self.result(Outcome.PENDING, decision.action, detail=ex.detail, execution=ex)
        return self.result(Outcome.FAILED, decision.action, reason=ex.reason,
                           detail=ex.detail or ex.state.value, execution=ex)

    def _report(self, result: SymbolCheckResult, decision: Decision) -> SymbolCheckResult:
        sig = decision.signal
        self.p.audit.record(
            "decision", self.cid, symbol=self.symbol, action=decision.action,
            outcome=result.outcome, reason=result.reason or "", detail=result.detail,
            signal=sig.action, confidence=sig.confidence, bar_time=decision.bar_time,
            price=self.price, client_order_id=(
                decision.client_order_id(self.symbol) if decision.action is not Action.HOLD
                else ""),
        )
        self._stage("report", result.outcome)
        return replace(result, stages=dict(self.stages))


_STAGES = ("market_data", "signal", "risk", "sizing", "execution", "report")
