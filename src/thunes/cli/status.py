"""`thunes status`: the same story as Telegram's /status, plus open orders and job runs.

The numbers come from `thunes.reports.status.build_status` / `render_status_text` (what the
Telegram command renders), read from the state database. Breakers and the price stream live
only in the running daemon: they are read from its health endpoint with a short timeout; when
it does not answer, status says so instead of guessing. `--json` prints the same facts as one
JSON object (Decimals as strings, times in ISO 8601). "Now" and "today" are the daemon's: the
simulated time in sim mode. Where there is no THUNES state it creates nothing and exits 2.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from thunes import __version__
from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.cli.daemon_clock import daemon_clock
from thunes.cli.state_dir import open_state
from thunes.clock import Clock
from thunes.reports.snapshot import HealthSnapshot
from thunes.reports.status import StatusView, build_status, render_status_text
from thunes.store import Store
from thunes.trading.orders import IN_FLIGHT
from thunes.trading.reconcile import LAST_RECONCILIATION_KEY

HEALTH_TIMEOUT_SECONDS = 1.0
NO_DAEMON = "daemon not running (no live breaker/stream state)"
DEFAULT_DAILY_LOSS_LIMIT = Decimal("20")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("status", help="positions, open orders, PnL, risk state")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_env_file_option(parser)
    parser.set_defaults(handler=run)


def fetch_health(
    host: str, port: int, timeout: float = HEALTH_TIMEOUT_SECONDS
) -> tuple[dict[str, Any] | None, str]:
    """The daemon's `/health` report, or (None, why not). A 503 still carries the report."""
    url = f"http://{host}:{port}/health"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as answer:
            body = answer.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    except (OSError, ValueError) as error:
        return None, f"{url}: {getattr(error, 'reason', None) or error}"
    try:
        report = json.loads(body)
    except ValueError:
        return None, f"{url}: unreadable answer"
    if not isinstance(report, dict) or not isinstance(report.get("components"), dict):
        return None, f"{url}: not a THUNES health report"
    return report, ""


def _detail(report: Mapping[str, Any], name: str) -> dict[str, Any]:
    component = report.get("components", {}).get(name) or {}
    return dict(component.get("detail") or {})


def collect(
    store: Store,
    clock: Clock,
    *,
    health: Mapping[str, Any] | None = None,
    daemon_error: str | None = None,
    daily_loss_limit: Decimal = DEFAULT_DAILY_LOSS_LIMIT,
    mode: str = "",
) -> dict[str, Any]:
    """Everything `status` shows, as plain data.

    `health` is the daemon's `/health` report; `daemon_error` says why there is none (None when
    the daemon was not asked, as in `thunes demo`'s final status).
    """
    now = clock.now()
    snapshot = HealthSnapshot.from_health_json(health) if health is not None else None
    view = build_status(
        store,
        now,
        daily_loss_limit=daily_loss_limit,
        health=snapshot,
        mode=mode,
        version=__version__,
    )
    asked = health is not None or daemon_error is not None
    return {
        "time": now,
        "text": _status_text(view, health, asked),
        "summary": _summary(view),
        "daemon": {"running": health is not None, "error": daemon_error or ""} if asked else None,
        "breakers": _detail(health, "breakers").get("open") if health is not None else None,
        "stream": _detail(health, "stream") if health is not None else None,
        **_store_facts(store, view),
    }


def _status_text(view: StatusView, health: Mapping[str, Any] | None, asked: bool) -> str:
    text = render_status_text(view)
    if health is not None:
        return text + "\n  daemon           running"
    head, _, _ = text.partition("\n\nSystem\n")
    rows = ["", "System", f"  {NO_DAEMON}" if asked else "  live state not read"]
    rows.append(f"  failing jobs     {len(view.failing_jobs) or 'none'}")
    rows += [f"    {job}" for job in view.failing_jobs]
    return "\n".join([head, *rows])


def _summary(view: StatusView) -> dict[str, Any]:
    return {
        "entries_allowed": view.entries_allowed,
        "today_pnl": view.today_pnl,
        "daily_loss_used": view.daily_loss_used,
        "daily_loss_limit": view.daily_loss_limit,
        "unrealized_pnl": view.unrealized_pnl,
        "open_breakers": list(view.health.open_breakers),
        "stream_connected": view.health.stream_connected,
        "failing_jobs": list(view.failing_jobs),
    }


def _store_facts(store: Store, view: StatusView) -> dict[str, Any]:
    risk = store.risk_state()
    return {
        "positions": [asdict(p) for p in store.open_positions()],
        "dust": {s: asdict(d) for s, d in view.dust.items()},
        "open_orders": [
            {
                "client_order_id": o.client_order_id,
                "symbol": o.symbol,
                "side": o.side,
                "state": o.state,
                "quantity": o.quantity,
                "quote_quantity": o.quote_quantity,
                "executed_qty": o.executed_qty,
                "updated_at": o.updated_at,
                "error": o.error,
            }
            for o in store.orders_in_states(IN_FLIGHT)
        ],
        "realized_pnl_today": view.today_pnl,
        "risk": {
            "kill_switch": risk.kill_switch,
            "kill_reason": risk.kill_reason,
            "killed_at": risk.killed_at,
            "paused": risk.paused,
            "cooldowns": dict(view.cooldowns),
        },
        "last_reconciliation": store.kv_get(LAST_RECONCILIATION_KEY) or "",
        "job_runs": {k: asdict(v) for k, v in store.last_job_runs().items()},
        "recent_orders": [
            {
                "client_order_id": o.client_order_id,
                "symbol": o.symbol,
                "side": o.side,
                "state": o.state,
                "avg_price": o.avg_price,
                "executed_qty": o.executed_qty,
                "updated_at": o.updated_at,
            }
            for o in store.recent_orders(10)
        ],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def _text(value: Any) -> str:
    plain = _plain(value)
    return "" if plain is None else str(plain)


def render(data: dict[str, Any], console: Console) -> None:
    console.print(escape(data["text"]), highlight=False)
    console.print(f"last reconciliation: {escape(data['last_reconciliation'] or 'never')}")
    _table(
        console,
        "open / in-flight orders",
        ["client order id", "symbol", "side", "state", "executed", "updated"],
        [
            [
                o["client_order_id"],
                o["symbol"],
                o["side"],
                o["state"],
                o["executed_qty"],
                o["updated_at"],
            ]
            for o in data["open_orders"]
        ],
    )
    _table(
        console,
        "last job runs",
        ["job", "started", "outcome", "error"],
        [[k, j["started_at"], j["outcome"], j["error"]] for k, j in data["job_runs"].items()],
    )


def _table(console: Console, title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    if not rows:
        table.add_row("none", *([""] * (len(columns) - 1)))
    console.print(table)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    store, code = open_state(settings)
    if store is None:
        return code
    health, why = fetch_health(settings.health_host, settings.health_port)
    try:
        data = collect(
            store,
            daemon_clock(settings, store),
            health=health,
            daemon_error=why or None,
            daily_loss_limit=settings.daily_loss_limit,
            mode=settings.mode.value,
        )
    finally:
        store.close()
    if args.json:
        data.pop("text")
        print(json.dumps(_plain(data), indent=2, sort_keys=True))
    else:
        render(data, Console())
    return 0
