"""Positions and PnL from fills (`PositionTracker`), in Decimal, net of every fee.

Accounting rules (long-only spot, one open position per symbol, one entry order per position):

* Entry: quantity held = Σ fill qty − commission paid in the base asset (Binance charges a BUY's
  fee in the asset received). `avg_entry_price` = quote spent / gross quantity bought (the actual
  fill average). `entry_fees_quote` = base commission valued at that average + any commission
  paid in the quote asset. So `avg_entry_price × quantity + entry_fees_quote` = everything paid.
* Exit: PnL = proceeds − commission in quote − the cost basis of the quantity sold (its share
  of everything paid). The sell quantity is the held quantity rounded down to the market step;
  what remains below the minimum notional is dust: the position closes, the dust is written off
  (its cost stays in the PnL) and noted, never retried.
* Commission in a third asset (e.g. BNB) is not valued here; it is kept with the fill.

Applying an order to the position is idempotent, so a restart may apply the same order again:
the executed quantity already applied is recorded per order (`position_applied:<id>`); an entry
is recomputed from all of its order's fills, an exit applies only the quantity not yet applied.
An exit also records the position's realised PnL after it (`exit_pnl:<id>`), so the order's
fill alert can state it even when a restart finishes the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from thunes.domain import ZERO, ExitReason, Fill, Position, Side
from thunes.exchange.types import SymbolRules
from thunes.trading.ports import OrderRecordView, TradingStore


@dataclass(frozen=True, slots=True)
class FillSummary:
    quantity: Decimal
    quote: Decimal
    base_commission: Decimal
    quote_commission: Decimal
    first_time: datetime | None

    @property
    def avg_price(self) -> Decimal:
        return self.quote / self.quantity if self.quantity else ZERO


def summarize(fills: Sequence[Fill], rules: SymbolRules) -> FillSummary:
    qty = sum((f.quantity for f in fills), ZERO)
    quote = sum((f.price * f.quantity for f in fills), ZERO)
    base_fee = sum((f.commission for f in fills if f.commission_asset == rules.base_asset), ZERO)
    quote_fee = sum((f.commission for f in fills if f.commission_asset == rules.quote_asset), ZERO)
    first = min((f.time for f in fills), default=None)
    return FillSummary(qty, quote, base_fee, quote_fee, first)


def entry_position(symbol: str, fills: Sequence[Fill], rules: SymbolRules) -> Position | None:
    """The position an entry order's fills make, or None if nothing was bought."""
    s = summarize(fills, rules)
    if s.quantity <= 0 or s.first_time is None:
        return None
    avg = s.avg_price
    return Position(
        symbol=symbol,
        quantity=s.quantity - s.base_commission,
        avg_entry_price=avg,
        opened_at=s.first_time,
        entry_fees_quote=s.base_commission * avg + s.quote_commission,
    )


def sell_quantity(
    position: Position, rules: SymbolRules, price: Decimal
) -> tuple[Decimal, Decimal]:
    """(quantity to sell, dust left): the held quantity rounded down by the market step.

    When even the rounded quantity fails the symbol's filters at `price`, everything is dust.
    """
    qty = rules.round_quantity(position.quantity, market=True)
    if qty <= 0 or rules.check(price, qty, market=True) is not None:
        return ZERO, position.quantity
    return qty, position.quantity - qty


def is_dust(quantity: Decimal, price: Decimal, rules: SymbolRules) -> bool:
    """Whether a remaining quantity can no longer be sold (below the market minimums)."""
    qty = rules.round_quantity(quantity, market=True)
    return qty <= 0 or rules.check(price, qty, market=True) is not None


@dataclass(frozen=True, slots=True)
class PositionChange:
    """What applying one order did to its symbol's position."""

    kind: str  # "opened" | "updated" | "reduced" | "closed" | "none"
    position: Position | None = None
    realized_pnl: Decimal = ZERO
    dust: Decimal = ZERO
    note: str = ""


class PositionTracker:
    """Keeps the stored position of each symbol in step with its orders' fills."""

    def __init__(self, store: TradingStore) -> None:
        self.store = store

    def apply(
        self, record: OrderRecordView, fills: Sequence[Fill], rules: SymbolRules
    ) -> PositionChange:
        """Apply an order's fills to its symbol's position (idempotent)."""
        if not fills or not self.pending(record, fills):
            return PositionChange("none", self.store.open_position(record.symbol))
        if _side(record) is Side.BUY:
            return self._apply_entry(record, fills, rules)
        return self._apply_exit(record, fills, rules)

    def pending(self, record: OrderRecordView, fills: Sequence[Fill] | None = None) -> bool:
        """Whether some of the order's executed quantity is not in the position yet."""
        executed = (
            sum((f.quantity for f in fills), ZERO) if fills is not None else record.executed_qty
        )
        return executed != self._applied(record)

    def exit_pnl(self, record: OrderRecordView) -> Decimal | None:
        """The position's realised PnL right after this exit order was applied (None if never)."""
        text = self.store.kv_get(_exit_pnl_key(record))
        return Decimal(text) if text else None

    def _applied(self, record: OrderRecordView) -> Decimal:
        return Decimal(self.store.kv_get(_applied_key(record)) or "0")

    def _mark(self, record: OrderRecordView, quantity: Decimal) -> None:
        self.store.kv_set(_applied_key(record), str(quantity))

    def _apply_entry(
        self, record: OrderRecordView, fills: Sequence[Fill], rules: SymbolRules
    ) -> PositionChange:
        target = entry_position(record.symbol, fills, rules)
        if target is None:
            return PositionChange("none")
        current = self.store.open_position(record.symbol)
        if current is not None and current.opened_at != target.opened_at:
            note = f"{record.symbol} already holds a position opened {current.opened_at}"
            return PositionChange("none", current, note=note)
        if current is not None and current.quantity == target.quantity:
            self._mark(record, sum((f.quantity for f in fills), ZERO))
            return PositionChange("none", current)
        self.store.save_position(target)
        self._mark(record, sum((f.quantity for f in fills), ZERO))
        return PositionChange("opened" if current is None else "updated", target)

    def _apply_exit(
        self, record: OrderRecordView, fills: Sequence[Fill], rules: SymbolRules
    ) -> PositionChange:
        s = summarize(fills, rules)
        applied = self._applied(record)
        delta = s.quantity - applied
        position = self.store.open_position(record.symbol)
        if delta <= 0 or position is None:
            if delta > 0:
                self._mark(record, s.quantity)
            return PositionChange("none", position)
        share = min(Decimal(1), delta / position.quantity) if position.quantity else Decimal(1)
        proceeds = s.avg_price * delta
        fees = s.quote_commission * (delta / s.quantity)
        remaining = position.quantity - delta
        reason = record.exit_reason or ExitReason.SIGNAL
        if remaining <= 0 or is_dust(remaining, s.avg_price, rules):
            pnl = position.realized_pnl + proceeds - fees - position.cost_basis
            closed_at = max(f.time for f in fills)
            self.store.kv_set(_exit_pnl_key(record), str(pnl))
            closed = self.store.close_position(
                record.symbol, closed_at=closed_at, realized_pnl=pnl, exit_reason=reason
            )
            self._mark(record, s.quantity)
            dust = max(remaining, ZERO)
            return PositionChange("closed", closed, pnl, dust, "dust written off" if dust else "")
        part_pnl = proceeds - fees - position.cost_basis * share
        position.quantity = remaining
        position.entry_fees_quote -= position.entry_fees_quote * share
        position.realized_pnl += part_pnl
        self.store.kv_set(_exit_pnl_key(record), str(position.realized_pnl))
        self.store.save_position(position)
        self._mark(record, s.quantity)
        return PositionChange("reduced", position, part_pnl)


def _applied_key(record: OrderRecordView) -> str:
    return f"position_applied:{record.client_order_id}"


def _exit_pnl_key(record: OrderRecordView) -> str:
    return f"exit_pnl:{record.client_order_id}"


def fill_facts(
    symbol: str, side: Side, fills: Sequence[Fill], rules: SymbolRules
) -> dict[str, object]:
    """What one order's fills amount to, in the keys `thunes.reports.alerts` reads for a fill."""
    s = summarize(fills, rules)
    fees: dict[str, Decimal] = {}
    for fill in fills:
        fees[fill.commission_asset] = fees.get(fill.commission_asset, ZERO) + fill.commission
    facts: dict[str, object] = {
        "symbol": symbol,
        "side": side.value,
        "action": "entry" if side is Side.BUY else "exit",
        "price": s.avg_price,
        "quantity": s.quantity,
        "quote": s.quote,
    }
    if len(fees) <= 1:
        asset, fee = next(iter(fees.items()), (rules.quote_asset, ZERO))
        facts.update(fee=fee, fee_asset=asset or rules.quote_asset)
        return facts
    # Mixed assets: value base and quote commissions in the quote asset, list the rest.
    facts.update(fee=s.base_commission * s.avg_price + s.quote_commission,
                 fee_asset=rules.quote_asset)
    others = {a: v for a, v in fees.items() if a not in (rules.base_asset, rules.quote_asset)}
    if others:
        facts["other_fees"] = ", ".join(f"{v} {a}" for a, v in sorted(others.items()))
    return facts


def _side(record: OrderRecordView) -> Side:
    return Side(str(record.side))
