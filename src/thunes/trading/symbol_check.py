"""One symbol's check, stage by stage (see `thunes.trading.pipeline` for the whole check).

market data → signal → risk → sizing → execution → report. Each stage takes its inputs
explicitly from `CheckContext` (the collaborators) and the values earlier stages returned.

Exits come first in every sense: the stop-loss is decided from the freshest price before the
klines are even needed, an exit is never refused by risk or by another symbol's trouble, and
every check tries again (a new attempt) while its condition holds. Only entries wait for a
clean reconciliation, pass the risk manager and go through the entry gate, which serialises
"count positions and in-flight entries, then record the intent" so concurrent symbols cannot
overshoot `max_open_positions`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from thunes.clock import Clock
from thunes.domain import (
    Action,
    OrderIntent,
    OrderState,
    Position,
    RejectReason,
    Side,
    Signal,
    StageResult,
    is_protective,
)
from thunes.exchange.types import ExchangeError, ExchangeGateway, SymbolRules
from thunes.strategy import Strategy, latest_signal
from thunes.strategy.rules import effective_stop
from thunes.trading.decisions import Decision, decide, entry_order_id
from thunes.trading.executor import ExecutionResult, Executor
from thunes.trading.exit_attempts import ExitAttempts
from thunes.trading.force_exit import clear_force_exit, force_exit_requested
from thunes.trading.orders import IN_FLIGHT
from thunes.trading.portfolio import sell_quantity
from thunes.trading.ports import Audit, PriceSource, RiskGate, TradingStore
from thunes.trading.protective_stops import ProtectiveStops
from thunes.trading.results import EntryBlock, Outcome, SymbolCheckResult

if TYPE_CHECKING:
    from thunes.trading.pipeline import PipelineConfig

log = logging.getLogger(__name__)

_STAGES = ("market_data", "signal", "risk", "sizing", "execution", "report")


@dataclass(frozen=True)
class CheckContext:
    """The collaborators every symbol check uses; built once by the pipeline."""

    gateway: ExchangeGateway
    store: TradingStore
    risk: RiskGate
    executor: Executor
    strategy: Strategy
    clock: Clock
    config: PipelineConfig
    prices: PriceSource | None
    audit: Audit
    attempts: ExitAttempts
    entry_gate: asyncio.Lock
    stops: ProtectiveStops


class SymbolCheck:
    """Runs the stages for one symbol and records each one's result and time."""

    def __init__(
        self, ctx: CheckContext, symbol: str, correlation_id: str, started_at: datetime,
        entry_block: EntryBlock | str | None = None,
    ) -> None:
        self.ctx = ctx
        self.symbol = symbol
        self.cid = correlation_id
        self.started_at = started_at
        if isinstance(entry_block, str):  # a reconciliation's reason
            entry_block = EntryBlock(RejectReason.NOT_RECONCILED, f"not reconciled: {entry_block}")
        self.entry_block = entry_block
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
        ctx = self.ctx
        rules = await ctx.gateway.symbol_rules(self.symbol)
        position = ctx.store.open_position(self.symbol)
        price, fresh = await self._price()
        self.price = price
        signal, klines_error = await self._signal()
        self._stage("market_data", price, price=price, fresh=fresh, klines_error=klines_error)
        forced = force_exit_requested(ctx.store, self.symbol)
        if forced and position is None:
            clear_force_exit(ctx.store, self.symbol)  # nothing (left) to sell
        decision = decide(position, price, signal, ctx.config.stop_loss_pct, forced)
        self.bar_time = decision.bar_time
        self._stage("signal", decision.action, reason=decision.detail)
        if decision.action is Action.EXIT:
            assert position is not None
            result = await self._exit(decision, position, rules, price)
            if forced and ctx.store.open_position(self.symbol) is None:
                clear_force_exit(ctx.store, self.symbol)
            return result
        if decision.action is Action.ENTER:
            result = await self._enter(decision, rules, price, fresh)
        elif klines_error is not None:
            result = self._report(self.error_result(klines_error), decision, "")
        else:
            result = self._report(self.result(Outcome.HOLD, detail=decision.detail), decision, "")
        await self._protect(rules, price)
        return result

    async def _protect(self, rules: SymbolRules, price: Decimal) -> None:
        """Keep the open position's protective stop resting on the exchange (if configured)."""
        position = self.ctx.store.open_position(self.symbol)
        if position is None or not self.ctx.config.exchange_stops:
            return
        dust = self.ctx.executor.positions.dust.get(self.symbol)
        quantity = rules.round_quantity(position.quantity + dust.quantity, market=False)
        stop = effective_stop(self.signal.stop_loss_pct if self.signal else None,
                              self.ctx.config.stop_loss_pct)
        placed = await self.ctx.stops.ensure(position, quantity, stop, price, rules, self.cid)
        if placed is not None:
            self._stage("protective_stop", placed.state, client_order_id=placed.client_order_id)

    async def _price(self) -> tuple[Decimal, bool]:
        """The stream's price if fresh, else one REST price; `fresh` False if only a stale one."""
        quote = self.ctx.prices.latest(self.symbol) if self.ctx.prices is not None else None
        staleness = self.ctx.config.price_staleness_seconds
        if quote is not None and quote.age(self.ctx.clock.time()) <= staleness:
            return quote.mid, True
        try:
            return await self.ctx.gateway.price(self.symbol), True
        except ExchangeError:
            if quote is None:
                raise
            return quote.mid, False

    async def _signal(self) -> tuple[Signal | None, str | None]:
        """The strategy's signal on the closed klines, or why there is none."""
        cfg = self.ctx.config
        try:
            frame = await self.ctx.gateway.closed_klines(self.symbol, cfg.interval,
                                                         cfg.kline_limit)
        except ExchangeError as exc:
            return None, f"klines: {type(exc).__name__}: {exc}"
        if len(frame) == 0:
            return None, "klines: no closed bars"
        signal = latest_signal(self.ctx.strategy, frame, cfg.min_confidence)
        if signal.bar_time is None:
            signal = replace(signal, bar_time=frame.index[-1].to_pydatetime())
        self.signal = signal
        return signal, None

    # ---- exits: never refused, tried at every check while the condition holds ----------------

    async def _exit(self, decision: Decision, position: Position, rules: SymbolRules,
                    price: Decimal) -> SymbolCheckResult:
        ctx = self.ctx
        attempt = ctx.attempts.next(position)
        coid = attempt.client_order_id
        busy = self._others_in_flight(coid)
        if busy:
            return self._skipped_in_flight(decision, busy, coid)
        ctx.risk.validate_trade(self.symbol, Action.EXIT, price_fresh=True,
                                breaker_open=False, correlation_id=self.cid)
        self._stage("risk", True, reason="exits are never refused")
        if not await ctx.stops.clear_for_exit(self.symbol, rules):
            result = self.result(Outcome.PENDING, decision.action,
                                 detail="the protective stop is still working; next check")
            return self._report(result, decision, coid)
        current = ctx.store.open_position(self.symbol)
        if current is None:  # the protective stop filled: that was the exit
            result = self.result(Outcome.EXITED, decision.action,
                                 detail="closed by the protective stop on the exchange")
            return self._report(result, decision, coid)
        position = current
        record = attempt.record
        if record is not None and record.state.in_flight and \
                record.state is not OrderState.NEW_INTENT:
            execution = await ctx.executor.resolve(record, rules)
        else:
            dust = ctx.executor.positions.dust.get(self.symbol)
            qty, unsold = sell_quantity(position, rules, price, dust)
            self._stage("sizing", qty, quantity=qty, unsold=unsold)
            if qty <= 0:
                return self._report(self._to_dust(position, decision, price), decision, "")
            intent = OrderIntent(coid, self.symbol, Side.SELL, quantity=qty,
                                 correlation_id=self.cid, exit_reason=decision.exit_reason)
            if attempt.is_new:
                with ctx.store.atomic():
                    ctx.store.record_intent(intent, ctx.clock.now())
                    ctx.attempts.mark(position, attempt)
            execution = await ctx.executor.execute(intent, rules, self.started_at)
        self._stage("execution", execution.state, sent=execution.sent, attempt=attempt.number)
        self._count_refusal(position, execution)
        return self._report(self._from_execution(decision, execution), decision, coid)

    def _count_refusal(self, position: Position, execution: ExecutionResult) -> None:
        if execution.fills:
            self.ctx.attempts.filled(position)
        elif execution.state.is_final:
            self.ctx.attempts.refused(position, execution.detail, self.cid)

    def _to_dust(self, position: Position, decision: Decision, price: Decimal
                 ) -> SymbolCheckResult:
        """Too small to sell at `price`: the coins stay tracked as dust, nothing is written off."""
        now = self.ctx.clock.now()
        reason = decision.exit_reason
        assert reason is not None
        closed = self.ctx.executor.positions.move_to_dust(position, now, reason)
        self.ctx.audit.record("position_to_dust", self.cid, symbol=self.symbol,
                              quantity=position.quantity, cost=position.cost_basis, price=price,
                              realized_pnl=closed.realized_pnl)
        return self.result(Outcome.DUST, decision.action, reason=RejectReason.DUST,
                           detail=f"{position.quantity} below the minimum: kept as dust")

    # ---- entries: one attempt per bar, through risk and the entry gate ------------------------

    async def _enter(self, decision: Decision, rules: SymbolRules, price: Decimal,
                     fresh: bool) -> SymbolCheckResult:
        ctx = self.ctx
        assert decision.bar_time is not None
        coid = entry_order_id(self.symbol, decision.bar_time)
        record = ctx.store.get_order(coid)
        if record is not None and not ctx.executor.may_send(record, self.started_at):
            return self._report(await self._resume(record, decision, rules), decision, coid)
        busy = self._others_in_flight(coid)
        if busy:
            return self._skipped_in_flight(decision, busy, coid)
        block = self.entry_block
        if block is not None:  # reconciliation, or the universe: entries only
            self._stage("risk", False, reason=block.reason.value)
            result = self.result(Outcome.REJECTED, decision.action, reason=block.reason,
                                 detail=block.detail)
            return self._report(result, decision, coid)
        async with ctx.entry_gate:
            gated = self._approve_and_record(decision, coid, rules, price, fresh, record is None)
        if isinstance(gated, SymbolCheckResult):
            return self._report(gated, decision, coid)
        execution = await ctx.executor.execute(gated, rules, self.started_at)
        self._stage("execution", execution.state, sent=execution.sent)
        return self._report(self._from_execution(decision, execution), decision, coid)

    def _approve_and_record(self, decision: Decision, coid: str, rules: SymbolRules,
                            price: Decimal, fresh: bool, new: bool
                            ) -> OrderIntent | SymbolCheckResult:
        """Risk, sizing and the intent's record, with no await in between (the entry gate)."""
        ctx = self.ctx
        verdict = ctx.risk.validate_trade(
            self.symbol, decision.action, price_fresh=fresh,
            breaker_open=ctx.gateway.breaker_open("orders"), correlation_id=self.cid,
        )
        self._stage("risk", verdict.approved, reason=str(verdict.reason or ""))
        if not verdict.approved:
            reason = RejectReason(str(verdict.reason)) if verdict.reason else None
            return self.result(Outcome.REJECTED, decision.action, reason=reason,
                               detail=verdict.detail)
        quote = ctx.config.quote_amount
        qty = rules.round_quantity(quote / price, market=True) if price > 0 else Decimal(0)
        violation = rules.check(price, qty, market=True)
        self._stage("sizing", quote, ok=violation is None, quantity=qty)
        if violation is not None:
            return self.result(Outcome.REJECTED, decision.action, reason=violation.reason,
                               detail=violation.message)
        intent = OrderIntent(coid, self.symbol, Side.BUY, quote_quantity=quote,
                             correlation_id=self.cid)
        if new:
            ctx.store.record_intent(intent, ctx.clock.now())
        return intent

    async def _resume(self, record: Any, decision: Decision, rules: SymbolRules
                      ) -> SymbolCheckResult:
        """The bar's entry was already decided: resolve it if in flight, never send again."""
        if not record.state.in_flight:
            self._stage("risk", False, reason="decided")
            return self.result(Outcome.SKIPPED, decision.action,
                               detail=f"decision already made: {record.state.value}")
        execution = await self.ctx.executor.resolve(record, rules)
        self._stage("execution", execution.state, sent=execution.sent, resumed=True)
        result = self._from_execution(decision, execution)
        if result.outcome in (Outcome.ENTERED, Outcome.FAILED):
            return replace(result, outcome=Outcome.SKIPPED,
                           detail=f"decision already made: {execution.state.value}")
        return result

    # ---- shared -----------------------------------------------------------------------------

    def _others_in_flight(self, coid: str) -> list[str]:
        return [
            r.client_order_id for r in self.ctx.store.orders_in_states(IN_FLIGHT)
            if r.symbol == self.symbol and r.client_order_id != coid
            and not is_protective(r.client_order_id)
        ]

    def _skipped_in_flight(self, decision: Decision, busy: list[str], coid: str
                           ) -> SymbolCheckResult:
        self._stage("risk", False, reason="in_flight")
        result = self.result(Outcome.SKIPPED, decision.action,
                             detail=f"order(s) in flight: {','.join(busy)}")
        return self._report(result, decision, coid)

    def _from_execution(self, decision: Decision, ex: ExecutionResult) -> SymbolCheckResult:
        if ex.fills and ex.state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED,
                                     OrderState.EXPIRED, OrderState.CANCELED):
            outcome = Outcome.ENTERED if decision.action is Action.ENTER else Outcome.EXITED
            return self.result(outcome, decision.action, detail=ex.detail, execution=ex)
        if ex.state.in_flight:
            return self.result(Outcome.PENDING, decision.action, detail=ex.detail, execution=ex)
        return self.result(Outcome.FAILED, decision.action, reason=ex.reason,
                           detail=ex.detail or ex.state.value, execution=ex)

    def _report(self, result: SymbolCheckResult, decision: Decision, coid: str
                ) -> SymbolCheckResult:
        sig = decision.signal
        self.ctx.audit.record(
            "decision", self.cid, symbol=self.symbol, action=decision.action,
            outcome=result.outcome, reason=result.reason or "", detail=result.detail,
            signal=sig.action if sig else "", confidence=sig.confidence if sig else 0.0,
            bar_time=decision.bar_time, price=self.price, client_order_id=coid,
        )
        self._stage("report", result.outcome)
        return replace(result, stages=dict(self.stages))
