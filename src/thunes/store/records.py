"""What the store hands out: frozen records, never live database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from thunes.domain import ExitReason, OrderState, Side


class StoreError(Exception):
    """The database cannot be used as is (corrupt file, newer schema, unknown record, ...).

    The message is meant for the operator; the file is never modified when this is raised
    while opening.
    """


@dataclass(frozen=True)
class OrderRecord:
    """One order as THUNES knows it; keyed by the deterministic client order id."""

    client_order_id: str
    symbol: str
    side: Side
    state: OrderState
    quantity: Decimal | None
    quote_quantity: Decimal | None
    exchange_order_id: int | None
    executed_qty: Decimal
    cumulative_quote_qty: Decimal
    avg_price: Decimal | None
    correlation_id: str
    exit_reason: ExitReason | None
    created_at: datetime
    updated_at: datetime
    error: str | None


@dataclass(frozen=True)
class RiskState:
    """The persisted switches the risk manager decides on; re-read at every check."""

    kill_switch: bool
    kill_reason: str
    killed_at: datetime | None
    paused: bool
    cooldowns: dict[str, datetime] = field(default_factory=dict)
    kill_day: date | None = None


@dataclass(frozen=True)
class JobRun:
    """One run of a scheduled job, for the health endpoint and `status`."""

    job_id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    error: str | None = None


@dataclass(frozen=True)
class PublishedParams:
    """Strategy parameters published (e.g. by an optimisation) for the daemon to trade with."""

    strategy: str
    symbol: str
    params: dict[str, Any]
    published_at: datetime
    source: str
    version: int
