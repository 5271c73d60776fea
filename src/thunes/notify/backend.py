"""`StoreCommandBackend`: the Telegram commands answered from the store and the risk manager.

It reads through the same report layer as `thunes status`, so every surface tells the same
story. Live parts (stream prices, `/health` JSON, balances) come in as callables, so the
backend works in the daemon and, with fewer facts, anywhere else. Selling goes through the
`ForceExitPort` the composition root passes in: notify never reaches into trading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC
from decimal import Decimal
from typing import Protocol

from thunes import __version__
from thunes.clock import Clock
from thunes.config import Settings
from thunes.ranking.types import RankingRun
from thunes.reports import force_exit as exits
from thunes.reports.chart import render_daily_chart
from thunes.reports.config_view import effective, render_config_text
from thunes.reports.daily import (
    SummaryStore,
    build_daily_summary,
    render_daily_text,
    render_health_rows,
)
from thunes.reports.format import fmt_num
from thunes.reports.health_notes import health_note_rows
from thunes.reports.log_tail import render_logs_text, tail
from thunes.reports.performance import (
    Unit,
    build_performance,
    build_periods,
    build_profit,
    recent_trades,
)
from thunes.reports.performance_text import (
    render_performance_text,
    render_periods_text,
    render_profit_text,
    render_trades_text,
)
from thunes.reports.rankings import render_ranking_text, render_unknown_timeframe
from thunes.reports.snapshot import HealthSnapshot, failed_job_runs, position_lines
from thunes.reports.status import (
    StatusView,
    build_status,
    mode_label,
    render_pnl_text,
    render_positions_text,
    render_status_text,
)


class RiskControls(Protocol):
    """The switches of `thunes.trading.risk.RiskManager`; each returns True if it changed."""

    def kill(self, reason: str) -> bool: ...
    def resume(self) -> bool: ...
    def pause(self) -> bool: ...
    def unpause(self) -> bool: ...


class BalanceLike(Protocol):
    @property
    def free(self) -> Decimal: ...
    @property
    def locked(self) -> Decimal: ...


class RankingReader(Protocol):
    """The latest successful ranking run of a timeframe (`store.rankings.RankingStore`)."""

    def latest_success(self, timeframe: str) -> RankingRun | None: ...


class ForceExitPort(Protocol):
    """Sells positions now through the daemon's order path (deterministic order ids, audited,
    alerted, under the kill-switch too); the app wires it to `force_exit_now`."""

    async def force_exit(self, targets: Sequence[str]) -> Sequence[exits.ExitAttempt]: ...


FORCE_EXIT_OFF = "Force-exit is not available here (no running daemon)."
PriceSnapshot = Callable[[], Mapping[str, Decimal]]
HealthProbe = Callable[[], HealthSnapshot]
BalanceFetch = Callable[[], Awaitable[Mapping[str, BalanceLike]]]


class StoreCommandBackend:
    """Implements `CommandBackend`."""

    def __init__(
        self,
        store: SummaryStore,
        risk: RiskControls,
        clock: Clock,
        *,
        daily_loss_limit: Decimal,
        mode: str = "",
        version: str = __version__,
        prices: PriceSnapshot | None = None,
        health: HealthProbe | None = None,
        balances: BalanceFetch | None = None,
        rankings: RankingReader | None = None,
        rank_timeframes: Sequence[str] = (),
        settings: Settings | None = None,
        force_exits: ForceExitPort | None = None,
    ) -> None:
        self._store = store
        self._risk = risk
        self._clock = clock
        self._limit = daily_loss_limit
        self._mode = mode
        self._version = version
        self._prices = prices
        self._health = health
        self._balances = balances
        self._rankings = rankings
        self._rank_timeframes = tuple(rank_timeframes)
        self._settings = settings
        self._force_exits = force_exits

    def _price_map(self) -> Mapping[str, Decimal] | None:
        return None if self._prices is None else self._prices()

    def _health_snapshot(self) -> HealthSnapshot | None:
        return None if self._health is None else self._health()

    def _status(self) -> StatusView:
        return build_status(
            self._store,
            self._clock.now(),
            daily_loss_limit=self._limit,
            prices=self._price_map(),
            health=self._health_snapshot(),
            mode=self._mode,
            version=self._version,
        )

    async def status_text(self) -> str:
        return render_status_text(self._status())

    async def positions_text(self) -> str:
        view = self._status()
        return render_positions_text(view.open_positions, view.unrealized_pnl, view.dust)

    async def pnl_text(self, days: int) -> str:
        return render_pnl_text(self._store, self._clock.now().date(), days)

    async def daily_report(self) -> tuple[str, bytes | None]:
        now = self._clock.now()
        summary = build_daily_summary(
            self._store,
            now.date(),
            now=now,
            daily_loss_limit=self._limit,
            prices=self._price_map(),
            health=self._health_snapshot(),
        )
        png = await asyncio.to_thread(render_daily_chart, summary)  # ~1 s of CPU: off the loop
        return render_daily_text(summary), png

    async def balance_text(self) -> str:
        if self._balances is None:
            return "Balances are not available here (no exchange connection)."
        balances = await self._balances()
        rows = [
            f"{asset:<8} free {fmt_num(b.free):>18}  locked {fmt_num(b.locked)}"
            for asset, b in sorted(balances.items())
            if b.free or b.locked
        ]
        return "Balances\n" + ("\n".join(rows) if rows else "all zero")

    async def kill(self, reason: str) -> str:
        if self._risk.kill(reason):
            return f"Kill-switch ON ({reason}): new entries stop at the next check."
        return "The kill-switch was already on."

    async def resume(self) -> str:
        if self._risk.resume():
            return "Kill-switch OFF: entries are allowed again from the next check."
        return "The kill-switch was already off."

    async def pause(self) -> str:
        if self._risk.pause():
            return "Entries paused (exits keep running). Send /unpause to allow them again."
        return "Entries were already paused."

    async def unpause(self) -> str:
        if self._risk.unpause():
            return "Entries unpaused."
        return "Entries were not paused."

    async def health_text(self) -> str:
        snapshot = self._health_snapshot() or HealthSnapshot()
        rows = render_health_rows(snapshot, failed_job_runs(self._store))
        rows += health_note_rows(snapshot)
        return "Health\n" + "\n".join(rows)

    async def version_text(self) -> str:
        label = mode_label(self._mode)
        return f"THUNES {self._version}" + (f" ({label} mode)" if label else "")

    async def rank_text(self, timeframe: str | None) -> str:
        """The top 10 of the latest ranking (the first ranked timeframe unless one is named)."""
        configured = self._rank_timeframes if self._rankings is not None else ()
        chosen = timeframe or (configured[0] if configured else "")
        if self._rankings is None or chosen not in configured:
            return render_unknown_timeframe(chosen, configured)
        return render_ranking_text(self._rankings.latest_success(chosen), chosen)

    # ---- performance: every figure from `reports.performance` -------------------------------

    async def trades_text(self, count: int) -> str:
        return render_trades_text(recent_trades(self._store, count), count)

    async def profit_text(self, days: int | None) -> str:
        today = self._clock.now().astimezone(UTC).date()
        return render_profit_text(build_profit(self._store, today, days))

    async def performance_text(self) -> str:
        return render_performance_text(build_performance(self._store))

    async def periods_text(self, unit: Unit, count: int) -> str:
        today = self._clock.now().astimezone(UTC).date()
        return render_periods_text(build_periods(self._store, today, unit, count), unit)

    # ---- configuration and logs ---------------------------------------------------------------

    async def config_text(self) -> str:
        if self._settings is None:
            return "The settings are not available here."
        mode = f" ({self._mode} mode)" if self._mode else ""
        return f"Settings in effect{mode}; secrets hidden\n" + render_config_text(
            effective(self._settings), max_value=32
        )

    async def logs_text(self, count: int) -> str:
        if self._settings is None:
            return "The log is not available here."
        log_dir, secrets = self._settings.log_dir, self._settings.secrets()
        lines = await asyncio.to_thread(tail, log_dir, count, secrets)
        return render_logs_text(lines, log_dir, count)

    # ---- force-exit ---------------------------------------------------------------------------

    async def force_exit_preview(self, target: str, window: int) -> tuple[list[str], str]:
        """The held symbols `target` names with the question to ask, or ([], why not)."""
        if self._force_exits is None:
            return [], FORCE_EXIT_OFF
        lines = position_lines(self._store.open_positions(), self._price_map())
        picked = exits.chosen(lines, target)
        if not picked:
            return [], exits.render_nothing_to_sell(target, [p.symbol for p in lines])
        return [p.symbol for p in picked], exits.render_prompt(picked, "forceexit", window)

    async def force_exit(self, symbols: Sequence[str]) -> str:
        if self._force_exits is None:
            return FORCE_EXIT_OFF
        return exits.render_attempts(await self._force_exits.force_exit(symbols))
