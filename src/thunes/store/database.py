"""`Store`: THUNES' state in one SQLite file, in short transactions, safe across processes.

Every call opens its own short transaction and returns frozen values, so the store can be
shared by threads and re-read by another process (a `thunes kill` from a shell is seen by the
daemon at its next read). Opening never overwrites anything it does not recognise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from thunes.domain import ZERO, ExitReason, Fill, OrderIntent, OrderState, Position
from thunes.store import migrations
from thunes.store import rows as convert
from thunes.store.engine import Transactions, build_engine
from thunes.store.records import OrderRecord, StoreError
from thunes.store.schema import fills, orders, positions
from thunes.store.state import StateTables

DB_FILE = "thunes.db"
# States that prove the exchange has the order: an earlier error about reaching it is stale.
# EXPIRED too: a MARKET order the book could not fill expires part-filled on the exchange, and
# must not keep a "never reached" mark from before it was (re)sent (that mark is always written
# with its error, so it is not cleared by this).
_CLEARS_ERROR = frozenset(
    {OrderState.ACKED, OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELED,
     OrderState.EXPIRED}
)


class Store(StateTables):
    """Orders, fills, positions, risk state, parameters, job runs and a small key-value table."""

    def __init__(self, path: Path, tx: Transactions, schema_version: int) -> None:
        super().__init__(tx)
        self.path = path
        self.schema_version = schema_version

    @classmethod
    def open(
        cls, path: Path, *, migrations_list: Sequence[migrations.Migration] | None = None
    ) -> Store:
        """Create or migrate the database at `path`; refuse a corrupt or newer one (StoreError)."""
        steps = tuple(migrations.MIGRATIONS if migrations_list is None else migrations_list)
        path = Path(path)
        found = migrations.inspect_file(path)
        migrations.check_version(path, found or 0, len(steps))
        path.parent.mkdir(parents=True, exist_ok=True)
        tx = Transactions(build_engine(path))
        try:
            version = found or 0
            if version < len(steps):
                with tx.write() as conn:
                    version = migrations.migrate(conn, version, steps)
        except Exception:
            tx.engine.dispose()
            raise
        return cls(path, tx, version)

    def close(self) -> None:
        self._tx.engine.dispose()

    def atomic(self) -> AbstractContextManager[None]:
        """Make every store call inside the block one transaction: all of it or none survives."""
        return self._tx.atomic()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- orders: the intent is committed before the request is sent ----

    def record_intent(self, intent: OrderIntent, now: datetime) -> OrderRecord:
        """Persist a new order intent; returns the existing record if the id is already known."""
        values = convert.intent_values(intent) | {
            "state": OrderState.NEW_INTENT.value,
            "executed_qty": ZERO,
            "cumulative_quote_qty": ZERO,
            "created_at": now,
            "updated_at": now,
        }
        statement = sqlite_insert(orders).values(**values).on_conflict_do_nothing()
        with self._tx.write() as conn:
            conn.execute(statement)
            row = conn.execute(
                select(orders).where(orders.c.client_order_id == intent.client_order_id)
            ).one()
        return convert.order_record(row)

    def get_order(self, client_order_id: str) -> OrderRecord | None:
        with self._tx.read() as conn:
            row = conn.execute(
                select(orders).where(orders.c.client_order_id == client_order_id)
            ).first()
        return None if row is None else convert.order_record(row)

    def update_order(
        self,
        client_order_id: str,
        *,
        state: OrderState,
        now: datetime,
        exchange_order_id: int | None = None,
        executed_qty: Decimal | None = None,
        cumulative_quote_qty: Decimal | None = None,
        avg_price: Decimal | None = None,
        error: str | None = None,
    ) -> OrderRecord:
        """Move an order to `state`; fields left as None keep their stored value.

        A move to a final state the exchange reported (FILLED, CANCELED, ...) with no `error`
        clears a stale one: a filled order must not still say "never reached".
        """
        changes: dict[str, object] = {"state": state.value, "updated_at": now}
        optional = {
            "exchange_order_id": exchange_order_id,
            "executed_qty": executed_qty,
            "cumulative_quote_qty": cumulative_quote_qty,
            "avg_price": avg_price,
            "error": error,
        }
        changes.update({k: v for k, v in optional.items() if v is not None})
        if error is None and state in _CLEARS_ERROR:
            changes["error"] = None
        where = orders.c.client_order_id == client_order_id
        with self._tx.write() as conn:
            if conn.execute(update(orders).where(where).values(**changes)).rowcount == 0:
                raise StoreError(f"no order with client order id {client_order_id!r}")
            row = conn.execute(select(orders).where(where)).one()
        return convert.order_record(row)

    def orders_in_states(self, states: Iterable[OrderState]) -> list[OrderRecord]:
        wanted = [s.value for s in states]
        query = select(orders).where(orders.c.state.in_(wanted)).order_by(orders.c.created_at)
        with self._tx.read() as conn:
            return [convert.order_record(row) for row in conn.execute(query)]

    def recent_orders(self, limit: int = 50) -> list[OrderRecord]:
        """The newest orders first."""
        query = (
            select(orders)
            .order_by(orders.c.created_at.desc(), orders.c.client_order_id.desc())
            .limit(limit)
        )
        with self._tx.read() as conn:
            return [convert.order_record(row) for row in conn.execute(query)]

    # ---- fills: deduplicated on (symbol, trade id) ----

    def add_fills(self, new_fills: Sequence[Fill]) -> int:
        """Store fills not seen before; returns how many were new (a replay adds nothing)."""
        added = 0
        with self._tx.write() as conn:
            for fill in new_fills:
                statement = (
                    sqlite_insert(fills)
                    .values(**convert.fill_values(fill))
                    .on_conflict_do_nothing(index_elements=["symbol", "trade_id"])
                )
                added += conn.execute(statement).rowcount
        return added

    def fills_for(self, client_order_id: str) -> list[Fill]:
        query = (
            select(fills)
            .where(fills.c.client_order_id == client_order_id)
            .order_by(fills.c.time, fills.c.trade_id)
        )
        with self._tx.read() as conn:
            return [convert.fill_from_row(row) for row in conn.execute(query)]

    def fills_between(self, symbol: str, since: datetime, until: datetime) -> list[Fill]:
        """The symbol's fills with `since <= time <= until`, oldest first (a trade's fills)."""
        query = (
            select(fills)
            .where(fills.c.symbol == symbol, fills.c.time >= since, fills.c.time <= until)
            .order_by(fills.c.time, fills.c.trade_id)
        )
        with self._tx.read() as conn:
            return [convert.fill_from_row(row) for row in conn.execute(query)]

    # ---- positions: long spot, at most one open per symbol ----

    def open_position(self, symbol: str) -> Position | None:
        query = select(positions).where(
            positions.c.symbol == symbol, positions.c.closed_at.is_(None)
        )
        with self._tx.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else convert.position_from_row(row)

    def open_positions(self) -> list[Position]:
        query = (
            select(positions).where(positions.c.closed_at.is_(None)).order_by(positions.c.symbol)
        )
        with self._tx.read() as conn:
            return [convert.position_from_row(row) for row in conn.execute(query)]

    def save_position(self, position: Position) -> None:
        """Insert the open position for its symbol, or update the one already open."""
        if position.closed_at is not None:
            raise StoreError("save_position takes an open position; use close_position to close")
        values = convert.position_values(position)
        where = (positions.c.symbol == position.symbol) & positions.c.closed_at.is_(None)
        with self._tx.write() as conn:
            if conn.execute(update(positions).where(where).values(**values)).rowcount == 0:
                conn.execute(positions.insert().values(**values))

    def close_position(
        self, symbol: str, *, closed_at: datetime, realized_pnl: Decimal, exit_reason: ExitReason
    ) -> Position:
        """Close the open position of `symbol`; `realized_pnl` is net of all fees."""
        where = (positions.c.symbol == symbol) & positions.c.closed_at.is_(None)
        with self._tx.write() as conn:
            row = conn.execute(select(positions).where(where)).first()
            if row is None:
                raise StoreError(f"no open position for {symbol}")
            changes = {
                "closed_at": closed_at,
                "realized_pnl": realized_pnl,
                "exit_reason": exit_reason.value,
            }
            conn.execute(update(positions).where(positions.c.id == row.id).values(**changes))
            closed = conn.execute(select(positions).where(positions.c.id == row.id)).one()
        return convert.position_from_row(closed)

    def closed_positions(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Position]:
        """Positions closed in [since, until), oldest first."""
        query = select(positions).where(positions.c.closed_at.is_not(None))
        if since is not None:
            query = query.where(positions.c.closed_at >= since)
        if until is not None:
            query = query.where(positions.c.closed_at < until)
        with self._tx.read() as conn:
            return [
                convert.position_from_row(row)
                for row in conn.execute(query.order_by(positions.c.closed_at, positions.c.id))
            ]

    def realized_pnl(self, start: datetime, end: datetime) -> Decimal:
        """Realised PnL, net of fees, of positions closed in [start, end); summed exactly."""
        return sum((p.realized_pnl for p in self.closed_positions(start, end)), ZERO)

    def count_orders(self) -> int:
        with self._tx.read() as conn:
            return int(conn.execute(select(func.count()).select_from(orders)).scalar_one())
