"""Conversions between table rows and THUNES' value types."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from thunes.domain import ExitReason, Fill, OrderIntent, OrderState, Position, Side
from thunes.store.records import JobRun, OrderRecord


def _exit_reason(value: str | None) -> ExitReason | None:
    return None if value is None else ExitReason(value)


def order_record(row: Row[Any]) -> OrderRecord:
    m = row._mapping
    return OrderRecord(
        client_order_id=m["client_order_id"],
        symbol=m["symbol"],
        side=Side(m["side"]),
        state=OrderState(m["state"]),
        quantity=m["quantity"],
        quote_quantity=m["quote_quantity"],
        exchange_order_id=m["exchange_order_id"],
        executed_qty=m["executed_qty"],
        cumulative_quote_qty=m["cumulative_quote_qty"],
        avg_price=m["avg_price"],
        correlation_id=m["correlation_id"],
        exit_reason=_exit_reason(m["exit_reason"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        error=m["error"],
    )


def intent_values(intent: OrderIntent) -> dict[str, Any]:
    return {
        "client_order_id": intent.client_order_id,
        "symbol": intent.symbol,
        "side": intent.side.value,
        "quantity": intent.quantity,
        "quote_quantity": intent.quote_quantity,
        "correlation_id": intent.correlation_id,
        "exit_reason": None if intent.exit_reason is None else intent.exit_reason.value,
    }


def fill_values(fill: Fill) -> dict[str, Any]:
    return {
        "symbol": fill.symbol,
        "trade_id": fill.trade_id,
        "client_order_id": fill.client_order_id,
        "side": fill.side.value,
        "price": fill.price,
        "quantity": fill.quantity,
        "commission": fill.commission,
        "commission_asset": fill.commission_asset,
        "time": fill.time,
    }


def fill_from_row(row: Row[Any]) -> Fill:
    m = row._mapping
    return Fill(
        symbol=m["symbol"],
        side=Side(m["side"]),
        price=m["price"],
        quantity=m["quantity"],
        commission=m["commission"],
        commission_asset=m["commission_asset"],
        trade_id=m["trade_id"],
        client_order_id=m["client_order_id"],
        time=m["time"],
    )


def position_values(position: Position) -> dict[str, Any]:
    return {
        "symbol": position.symbol,
        "quantity": position.quantity,
        "avg_entry_price": position.avg_entry_price,
        "entry_fees_quote": position.entry_fees_quote,
        "opened_at": position.opened_at,
        "closed_at": position.closed_at,
        "realized_pnl": position.realized_pnl,
        "exit_reason": None if position.exit_reason is None else position.exit_reason.value,
    }


def position_from_row(row: Row[Any]) -> Position:
    m = row._mapping
    return Position(
        symbol=m["symbol"],
        quantity=m["quantity"],
        avg_entry_price=m["avg_entry_price"],
        opened_at=m["opened_at"],
        entry_fees_quote=m["entry_fees_quote"],
        closed_at=m["closed_at"],
        realized_pnl=m["realized_pnl"],
        exit_reason=_exit_reason(m["exit_reason"]),
    )


def job_run_from_row(row: Row[Any]) -> JobRun:
    m = row._mapping
    return JobRun(
        job_id=m["job_id"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        outcome=m["outcome"],
        error=m["error"],
    )
