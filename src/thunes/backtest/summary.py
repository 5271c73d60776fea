"""Plain-language outcome of an optimisation, and the leaderboard as table, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from thunes.backtest.optimize import LeaderRow, OptimizeReport


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def summarise(report: OptimizeReport) -> str:
    """What was tried, what came out, whether it may be published, and what to do next."""
    spec = report.spec
    symbols = len(report.symbols)
    plural = "symbol" if symbols == 1 else "symbols"
    head = (
        f"Tried {report.combinations} combinations of {spec.strategy} ({spec.method}) on "
        f"{symbols} {plural} ({', '.join(report.symbols)}), data "
        f"{report.data_start:%Y-%m-%d} → {report.data_end:%Y-%m-%d}, walk-forward with "
        f"{spec.folds} folds."
    )
    oos = report.oos
    figures = (
        f"out-of-sample Sharpe {oos.sharpe:.2f}, return {oos.total_return:.1%}, "
        f"max drawdown {oos.max_drawdown:.1%}, {oos.trades} trades"
    )
    if report.passed:
        return (
            f"{head} The best passed the guardrails with {figures} and can be published: "
            f"{_params_text(report.candidate)}.\nNext steps: run it in sim mode "
            "(`thunes run`) and watch a few days of decisions before testnet or live; "
            "re-optimise when the market regime changes."
        )
    reasons = "; ".join(report.failures)
    return (
        f"{head} Nothing was published: the walk-forward result ({figures}) failed the "
        f"guardrails: {reasons}.\nNext steps: the daemon keeps its current parameters. Try "
        "more data (a longer window or more symbols), another strategy, or a different "
        "timeframe; loosening the guardrails trades safety for activity, so do it knowingly."
    )


LEADER_COLUMNS = (
    "rank",
    "params",
    "is_sharpe",
    "oos_sharpe",
    "oos_return",
    "oos_max_drawdown",
    "oos_trades",
    "folds_picked",
    "candidate",
)


def leader_records(rows: list[LeaderRow]) -> list[dict[str, Any]]:
    return [
        {
            "rank": row.rank,
            "params": row.params,
            "is_sharpe": round(row.in_sample_sharpe, 6),
            "oos_sharpe": round(row.oos.sharpe, 6),
            "oos_return": round(row.oos.total_return, 6),
            "oos_max_drawdown": round(row.oos.max_drawdown, 6),
            "oos_trades": row.oos.trades,
            "folds_picked": row.folds_picked,
            "candidate": row.is_candidate,
        }
        for row in rows
    ]


def leaderboard_json(rows: list[LeaderRow]) -> str:
    return json.dumps(leader_records(rows), indent=2)


def leaderboard_csv(rows: list[LeaderRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LEADER_COLUMNS)
    writer.writeheader()
    for record in leader_records(rows):
        writer.writerow({**record, "params": _params_text(record["params"])})
    return buffer.getvalue()


def _varying(rows: list[LeaderRow]) -> list[str]:
    """Parameter names whose value differs between rows (all of them for a single row)."""
    if len(rows) < 2:
        return list(rows[0].params) if rows else []
    return [k for k in rows[0].params if len({str(r.params.get(k)) for r in rows}) > 1]


def leaderboard_table(rows: list[LeaderRow], title: str = "leaderboard") -> Table:
    """The leaderboard for the terminal; only the parameters that vary are shown."""
    table = Table(title=title)
    shown = _varying(rows)
    for name in (
        "#",
        "params",
        "IS Sharpe",
        "OOS Sharpe",
        "OOS return",
        "OOS max DD",
        "OOS trades",
        "folds picked",
        "",
    ):
        table.add_column(name, justify="left" if name == "params" else "right")
    for row in rows:
        table.add_row(
            str(row.rank),
            " ".join(f"{k}={row.params[k]:g}" for k in shown),
            f"{row.in_sample_sharpe:.2f}",
            f"{row.oos.sharpe:.2f}",
            f"{row.oos.total_return:.1%}",
            f"{row.oos.max_drawdown:.1%}",
            str(row.oos.trades),
            str(row.folds_picked),
            "candidate" if row.is_candidate else "",
        )
    return table
