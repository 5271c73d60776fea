"""The read-only pages: overview, trades and orders, jobs and breakers, ranking.

Each is rendered on the server from the same views as the JSON API; the only picture, the
equity curve, is inline SVG.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from thunes.reports.format import fmt_money, fmt_num, fmt_price
from thunes.reports.ledger import equity_curve, recent_trades, with_stops
from thunes.web import views
from thunes.web.auth import Session
from thunes.web.chart import equity_svg
from thunes.web.html import Raw, card, e, page, table
from thunes.web.session import SESSION_KEY
from thunes.web.sources import DashboardSources

TABLE_ROWS = 50


def _tone(value: Any) -> str:
    if value is None:
        return ""
    return "good" if value >= 0 else "bad"


class Pages:
    def __init__(self, sources: DashboardSources) -> None:
        self.sources = sources

    def install(self, app: web.Application) -> None:
        app.router.add_get("/", self._guard(self.overview))
        app.router.add_get("/trades", self._guard(self.trades))
        app.router.add_get("/jobs", self._guard(self.jobs))
        app.router.add_get("/ranking", self._guard(self.ranking))

    def _guard(self, render: Any) -> Any:
        async def handler(request: web.Request) -> web.StreamResponse:
            session = request.get(SESSION_KEY)
            if session is None:
                raise web.HTTPSeeOther("/login")
            result: web.StreamResponse = render(session)
            return result

        return handler

    def overview(self, session: Session) -> web.Response:
        s = self.sources
        view = s.status()
        health = s.health()
        state = views.daemon_state(health) or "not reported"
        healthy = {True: "healthy", False: "UNHEALTHY", None: "n/a"}[view.health.healthy]
        cards = "".join([
            card("Daemon", state, ident="daemon-state"),
            card("Health", healthy, ident="health",
                 tone={True: "good", False: "bad", None: ""}[view.health.healthy]),
            card("Kill-switch", f"ON ({view.kill_reason})" if view.kill_switch else "off",
                 ident="kill-switch", tone="bad" if view.kill_switch else "good"),
            card("Entries", "allowed" if view.entries_allowed else "STOPPED",
                 ident="entries", tone="good" if view.entries_allowed else "bad"),
            card("Today's PnL", fmt_money(view.today_pnl, signed=True), ident="today-pnl",
                 tone=_tone(view.today_pnl)),
            card("Daily loss used",
                 f"{fmt_money(view.daily_loss_used)} of {fmt_money(view.daily_loss_limit)}",
                 ident="daily-loss"),
        ])
        reasons = "".join(f'<p class="error">{e(r)}</p>' for r in view.health.reasons)
        rows = with_stops(view.open_positions, s.stop_loss_pct)
        positions = table(
            ("symbol", "quantity", "entry", "mark", "unrealised PnL", "stop", ""),
            ((r.line.symbol, fmt_num(r.line.quantity), fmt_price(r.line.avg_entry_price),
              fmt_price(r.line.mark_price) if r.line.mark_price is not None else "no price",
              fmt_money(r.line.unrealized_pnl, signed=True),
              fmt_price(r.stop_price) if r.stop_price is not None else "none",
              Raw(f'<a class="button danger" id="force-exit-{e(r.line.symbol)}" '
                  f'href="/confirm/force-exit?symbol={e(r.line.symbol)}">Force exit</a>'))
             for r in rows),
            numeric=(1, 2, 3, 4, 5), table_id="positions", empty="No open positions.",
        )
        actions = '<div class="actions">' + "".join(
            f'<a class="button{" danger" if name == "kill" else ""}" id="action-{name}" '
            f'href="/confirm/{name}">{label}</a>'
            for name, label in (("kill", "Kill-switch on"), ("resume", "Kill-switch off"),
                                ("pause", "Pause entries"), ("unpause", "Unpause entries"))
        ) + "</div>"
        body = (f'<div class="cards">{cards}</div>{reasons}'
                f"<h2>Equity (realised PnL, net of fees)</h2>{equity_svg(equity_curve(s.store))}"
                f"<h2>Open positions</h2>{positions}<h2>Controls</h2>{actions}")
        return page(s, "Overview", body, session=session)

    def trades(self, session: Session) -> web.Response:
        s = self.sources
        trades = table(
            ("closed", "symbol", "entry", "exit", "quantity", "fees", "PnL", "reason"),
            ((t.closed_at.strftime("%Y-%m-%d %H:%M"), t.symbol, fmt_price(t.entry_price),
              fmt_price(t.exit_price) if t.exit_price is not None else "n/a",
              fmt_num(t.quantity), fmt_money(t.fees), fmt_money(t.realized_pnl, signed=True),
              t.exit_reason)
             for t in recent_trades(s.store, TABLE_ROWS)),
            numeric=(2, 3, 4, 5, 6), table_id="trades", empty="No closed trades yet.",
        )
        orders = table(
            ("created", "symbol", "side", "state", "executed", "avg price", "reason", "error"),
            ((o.created_at.strftime("%Y-%m-%d %H:%M:%S"), o.symbol, o.side.value,
              o.state.value, fmt_num(o.executed_qty),
              fmt_price(o.avg_price) if o.avg_price is not None else "",
              o.exit_reason.value if o.exit_reason else "", o.error or "")
             for o in s.store.recent_orders(TABLE_ROWS)),
            numeric=(4, 5), table_id="orders", empty="No orders yet.",
        )
        body = f"<h2>Closed trades</h2>{trades}<h2>Orders</h2>{orders}"
        return page(s, "Trades and orders", body, session=session)

    def jobs(self, session: Session) -> web.Response:
        s = self.sources
        data = views.jobs_json(s)
        jobs = table(
            ("job", "last outcome", "started", "finished", "next run", "error"),
            ((j["job_id"], j["outcome"] or "never run", j["started_at"] or "",
              j["finished_at"] or "", j["next_run"] or "", j["error"] or "")
             for j in data["jobs"]),
            table_id="jobs", empty="No job has run yet.",
        )
        breakers = table(
            ("breaker", "state"),
            ((name, "OPEN" if is_open else "closed")
             for name, is_open in sorted(data["breakers"].items())),
            table_id="breakers", empty="Breaker states come from the running daemon.",
        )
        health = views.health_json(s)
        components = table(
            ("component", "ok", "why"),
            ((name, "yes" if c.get("ok") else "NO",
              (c.get("detail") or {}).get("reason") or (c.get("detail") or {}).get("error") or "")
             for name, c in sorted((health.get("components") or {}).items())),
            table_id="components", empty="No health report.",
        )
        body = (f"<h2>Jobs</h2>{jobs}<h2>Circuit breakers</h2>{breakers}"
                f"<h2>Health components</h2>{components}")
        return page(s, "Jobs and breakers", body, session=session)

    def ranking(self, session: Session) -> web.Response:
        s = self.sources
        data = views.ranking_json(s)
        if not data["enabled"]:
            body = ("<p>Ranking is off (THUNES_RANK_TIMEFRAMES is empty and the universe "
                    "is static).</p>")
            return page(s, "Ranking", body, session=session)
        parts = []
        for timeframe, snap in data["timeframes"].items():
            parts.append(f"<h2>{e(timeframe)}</h2>")
            if snap is None:
                parts.append(f"<p>No ranking of {e(timeframe)} yet.</p>")
                continue
            parts.append(f"<p>as of {e(snap.get('as_of'))}, run {e(snap.get('run_id'))}</p>")
            parts.append(table(
                ("#", "symbol", "score", "confidence", "24h quote volume", "reasons"),
                ((r["rank"], r["symbol"], r["bullish_score"], f"{r['confidence']}%",
                  fmt_num(r["quote_volume_24h"], 0), ", ".join(r["reasons"][:3]))
                 for r in _rows(snap)),
                numeric=(0, 2, 3, 4), empty="No symbol passed the filters.",
            ))
        return page(s, "Ranking", "".join(parts), session=session)


def _rows(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The ranked rows (a run read without its rows carries only their count)."""
    rows = snapshot.get("ranked")
    return rows if isinstance(rows, list) else []
