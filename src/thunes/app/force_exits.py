"""The operator's force-exit port: Telegram (and the dashboard) sell through the daemon's pipeline.

`PipelineForceExits` implements `thunes.notify.backend.ForceExitPort`. It audits the request,
then runs `trading.pipeline.force_exit_now` through the daemon's gated runner (live mode sells
nothing before the API key is verified), and describes each symbol's result in the reports'
terms, so notify never sees a trading type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from thunes.domain import ZERO
from thunes.reports.force_exit import ExitAttempt
from thunes.trading.results import SymbolCheckResult

ForceExitRun = Callable[[Sequence[str]], Awaitable[Mapping[str, SymbolCheckResult]]]


class Audit(Protocol):
    def record(self, kind: str, correlation_id: str = "", **data: object) -> None: ...


class PipelineForceExits:
    def __init__(self, run: ForceExitRun, audit: Audit | None, source: str) -> None:
        self._run = run
        self._audit = audit
        self._source = source

    async def force_exit(self, targets: Sequence[str]) -> list[ExitAttempt]:
        if self._audit is not None:
            self._audit.record("force_exit_requested", "", symbols=list(targets),
                               source=self._source)
        try:
            results = await self._run(targets)
        except RuntimeError as refused:  # live mode before the key is verified: nothing sent
            return [ExitAttempt(t.upper(), "refused", str(refused)) for t in targets]
        return [attempt(result) for _, result in sorted(results.items())]


def attempt(result: SymbolCheckResult) -> ExitAttempt:
    """What the forced check of one symbol did, as the reports show it."""
    execution = result.execution
    fills = execution.fills if execution is not None else ()
    sold = sum((f.quantity for f in fills), ZERO)
    price: Decimal | None = None
    if sold > 0:
        price = sum((f.price * f.quantity for f in fills), ZERO) / sold
    change = execution.position if execution is not None else None
    pnl = change.realized_pnl if change is not None and change.kind == "closed" else None
    detail = result.detail or (execution.detail if execution is not None else "")
    return ExitAttempt(
        symbol=result.symbol,
        outcome=result.outcome.value,
        detail=detail,
        quantity=sold if sold > 0 else None,
        price=price,
        realized_pnl=pnl,
    )
