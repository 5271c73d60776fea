"""What a check reports: per-symbol results, the whole check, counters for the health endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from thunes.domain import Action, RejectReason, Signal, StageResult
from thunes.trading.executor import ExecutionResult
from thunes.trading.reconcile import ReconciliationReport


class Outcome(StrEnum):
    """What one symbol's check ended with."""

    HOLD = "hold"  # nothing to do
    SKIPPED = "skipped"  # nothing done on purpose (in-flight order, already decided, ...)
    REJECTED = "rejected"  # risk or filters refused (reason set)
    ENTERED = "entered"
    EXITED = "exited"
    PENDING = "pending"  # an order is out, its outcome not known yet
    DUST = "dust"  # position too small to sell: closed as dust
    FAILED = "failed"  # the order did not fill (rejected by the exchange, never reached, ...)
    ERROR = "error"  # a stage failed; this symbol was skipped


@dataclass(frozen=True, slots=True)
class EntryBlock:
    """Why one symbol's entries wait this check (its exits never do)."""

    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class SymbolCheckResult:
    symbol: str
    correlation_id: str
    outcome: Outcome
    action: Action = Action.HOLD
    signal: Signal | None = None
    reason: RejectReason | None = None
    detail: str = ""
    price: Decimal | None = None
    execution: ExecutionResult | None = None
    stages: dict[str, StageResult[Any]] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    bar_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class CheckReport:
    correlation_id: str
    started_at: datetime
    results: dict[str, SymbolCheckResult]
    elapsed_ms: float
    reconciliation: ReconciliationReport | None = None
    blocked: str = ""  # why nothing traded at all (e.g. reconciliation failed), else ""

    @property
    def errors(self) -> list[SymbolCheckResult]:
        return [r for r in self.results.values() if r.outcome is Outcome.ERROR]


@dataclass
class PipelineMetrics:
    """Plain counters the health/metrics endpoint reads (no locking: one event loop)."""

    checks: int = 0
    symbol_checks: int = 0
    symbol_errors: int = 0
    orders_sent: int = 0
    fills: int = 0
    rejections: int = 0
    reconciliation_failures: int = 0
    last_check_ms: float = 0.0
    last_check_at: datetime | None = None
    stage_ms_total: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, result: SymbolCheckResult) -> None:
        self.symbol_checks += 1
        self.outcomes[result.outcome.value] = self.outcomes.get(result.outcome.value, 0) + 1
        if result.outcome is Outcome.ERROR:
            self.symbol_errors += 1
        if result.outcome is Outcome.REJECTED:
            self.rejections += 1
        if result.execution is not None:
            self.orders_sent += int(result.execution.sent)
            self.fills += len(result.execution.fills) if result.execution.sent else 0
        for name, stage in result.stages.items():
            self.stage_ms_total[name] = self.stage_ms_total.get(name, 0.0) + stage.elapsed_ms
