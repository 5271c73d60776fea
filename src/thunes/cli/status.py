"""`thunes status`: positions, open orders, today's PnL, risk state and last job runs.

Reads only the state database, so it works while the daemon runs and without the exchange.
`--json` prints the same facts as one JSON object (Decimals as strings, times in ISO 8601).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.clock import Clock, SystemClock
from thunes.store import Store, StoreError, db_path
from thunes.trading.orders import IN_FLIGHT
from thunes.trading.reconcile import LAST_RECONCILIATION_KEY

EXIT_FAILED = 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("status", help="positions, open orders, PnL, risk state")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_env_file_option(parser)
    parser.set_defaults(handler=run)


def collect(store: Store, clock: Clock) -> dict[str, Any]:
    """Everything `status` shows, as plain data (read from the store only)."""
    now = clock.now()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    risk = store.risk_state()
    in_flight = [o for o in store.orders_in_states(IN_FLIGHT)]
    return {
        "time": now,
        "positions": [asdict(p) for p in store.open_positions()],
        "open_orders": [
            {"client_order_id": o.client_order_id, "symbol": o.symbol, "side": o.side,
             "state": o.state, "quantity": o.quantity, "quote_quantity": o.quote_quantity,
             "executed_qty": o.executed_qty, "updated_at": o.updated_at, "error": o.error}
            for o in in_flight
        ],
        "realized_pnl_today": store.realized_pnl(day_start, day_start + timedelta(days=1)),
        "risk": {
            "kill_switch": risk.kill_switch,
            "kill_reason": risk.kill_reason,
            "killed_at": risk.killed_at,
            "paused": risk.paused,
            "cooldowns": {s: u for s, u in risk.cooldowns.items() if u > now},
        },
        "last_reconciliation": store.kv_get(LAST_RECONCILIATION_KEY) or "",
        "job_runs": {k: asdict(v) for k, v in store.last_job_runs().items()},
        "recent_orders": [
            {"client_order_id": o.client_order_id, "symbol": o.symbol, "side": o.side,
             "state": o.state, "avg_price": o.avg_price, "executed_qty": o.executed_qty,
             "updated_at": o.updated_at}
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
    risk = data["risk"]
    state = "ON: " + risk["kill_reason"] if risk["kill_switch"] else "off"
    console.print(f"[bold]THUNES status[/bold] at {_text(data['time'])}")
    console.print(f"kill-switch: {state}   paused: {'yes' if risk['paused'] else 'no'}   "
                  f"today's realised PnL: {_text(data['realized_pnl_today'])}")
    cooldowns = ", ".join(f"{s} until {_text(u)}" for s, u in risk["cooldowns"].items())
    console.print(f"cool-downs: {cooldowns or 'none'}")
    console.print(f"last reconciliation: {data['last_reconciliation'] or 'never'}")
    _table(console, "positions", ["symbol", "quantity", "avg entry", "opened"],
           [[p["symbol"], p["quantity"], p["avg_entry_price"], p["opened_at"]]
            for p in data["positions"]])
    _table(console, "open / in-flight orders", ["client order id", "symbol", "side", "state",
                                                 "executed", "updated"],
           [[o["client_order_id"], o["symbol"], o["side"], o["state"], o["executed_qty"],
             o["updated_at"]] for o in data["open_orders"]])
    _table(console, "last job runs", ["job", "started", "outcome", "error"],
           [[k, j["started_at"], j["outcome"], j["error"]] for k, j in data["job_runs"].items()])


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
    path = db_path(settings.state_dir)
    if not path.exists():
        print(f"no THUNES state at {path} yet (the daemon has not run here)", file=sys.stderr)
        return EXIT_FAILED
    try:
        store = Store.open(path)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        data = collect(store, SystemClock())
    finally:
        store.close()
    if args.json:
        print(json.dumps(_plain(data), indent=2, sort_keys=True))
    else:
        render(data, Console())
    return 0
