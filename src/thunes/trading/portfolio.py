"""Positions and PnL from fills (`PositionTracker`), in Decimal, net of every fee.

Accounting rules (long-only spot, one open position per symbol, one entry order per position):

* Entry: quantity held = Σ fill qty − commission paid in the base asset (Binance charges a BUY's
  fee in the asset received). `avg_entry_price` = quote spent / gross quantity bought (the actual
  fill average). `entry_fees_quote` = base commission valued at that average + commission paid
  in the quote asset + commission paid in any third asset (e.g. BNB), valued in the quote asset
  when THUNES recorded the fill. So `avg_entry_price × quantity + entry_fees_quote` = all paid.
* Exit: the sell covers the position *and* the symbol's tracked dust (`thunes.trading.dust`).
  PnL = proceeds − every commission − the cost of the share sold. What cannot be sold (below
  one step or the minimum notional) stays tracked as dust with its share of the cost: it is
  never written off, and the next exit of that symbol sells it.

Applying an order to the position is idempotent and atomic: the position change, the quantity
applied (`position_applied:<id>`), the dust and the realised PnL (`exit_pnl:<id>`) are written in
one transaction, so a crash leaves either all or none and a restart applies only what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from thunes.domain import ZERO, Dust, ExitReason, Fill, Position, Side
from thunes.exchange.types import SymbolRules
from thunes.trading.dust import DustLedger
from thunes.trading.ports import OrderRecordView, TradingStore

FEE_QUOTE_PREFIX = "fee_quote:"


@dataclass(frozen=True, slots=True)
class FillSummary:
    quantity: Decimal
    quote: Decimal
    base_commission: Decimal
    quote_commission: Decimal  # in the quote asset, third-asset commissions included
    first_time: datetime | None

    @property
    def avg_price(self) -> Decimal:
        return self.quote / self.quantity if self.quantity else ZERO


def summarize(
    fills: Sequence[Fill], rules: SymbolRules, other_fees_quote: Decimal = ZERO
) -> FillSummary:
    """`other_fees_quote`: the fills' third-asset commissions, already valued in quote."""
    qty = sum((f.quantity for f in fills), ZERO)
    quote = sum((f.price * f.quantity for f in fills), ZERO)
    base_fee = sum((f.commission for f in fills if f.commission_asset == rules.base_asset), ZERO)
    quote_fee = sum((f.commission for f in fills if f.commission_asset == rules.quote_asset), ZERO)
    first = min((f.time for f in fills), default=None)
    return FillSummary(qty, quote, base_fee, quote_fee + other_fees_quote, first)


def third_asset_fills(fills: Sequence[Fill], rules: SymbolRules) -> list[Fill]:
    """Fills whose commission was paid in neither the base nor the quote asset (e.g. BNB)."""
    own = (rules.base_asset, rules.quote_asset)
    return [f for f in fills if f.commission > 0 and f.commission_asset not in own]


def fee_quote_key(fill: Fill) -> str:
    return f"{FEE_QUOTE_PREFIX}{fill.symbol}:{fill.trade_id}"


def other_fees_quote(store: TradingStore, fills: Sequence[Fill], rules: SymbolRules) -> Decimal:
    """The recorded quote value of the fills' third-asset commissions.

    Raises `FeeNotValued` when one has not been valued yet: the position then waits, since
    applying it without that fee would overstate the PnL.
    """
    total = ZERO
    for fill in third_asset_fills(fills, rules):
        text = store.kv_get(fee_quote_key(fill))
        if text is None:
            what = f"{fill.commission} {fill.commission_asset} of trade {fill.trade_id}"
            raise FeeNotValued(what)
        total += Decimal(text)
    return total


class FeeNotValued(Exception):
    """A commission in a third asset has no quote value yet."""


def entry_position(
    symbol: str, fills: Sequence[Fill], rules: SymbolRules, other_fees: Decimal = ZERO
) -> Position | None:
    """The position an entry order's fills make, or None if nothing was bought."""
    s = summarize(fills, rules, other_fees)
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
    position: Position, rules: SymbolRules, price: Decimal, dust: Dust | None = None
) -> tuple[Decimal, Decimal]:
    """(quantity to sell, left unsold): position plus tracked dust, rounded down by the step.

    When even the rounded quantity fails the symbol's filters at `price`, nothing is sold.
    """
    held = position.quantity + (dust.quantity if dust is not None else ZERO)
    qty = rules.round_quantity(held, market=True)
    if qty <= 0 or rules.check(price, qty, market=True) is not None:
        return ZERO, held
    return qty, held - qty


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
    """Keeps the stored position (and dust) of each symbol in step with its orders' fills."""

    def __init__(self, store: TradingStore) -> None:
        self.store = store
        self.dust = DustLedger(store)

    def apply(
        self,
        record: OrderRecordView,
        fills: Sequence[Fill],
        rules: SymbolRules,
        other_fees: Decimal = ZERO,
    ) -> PositionChange:
        """Apply an order's fills to its symbol's position (idempotent; one transaction)."""
        if not fills or not self.pending(record, fills):
            return PositionChange("none", self.store.open_position(record.symbol))
        with self.store.atomic():
            if _side(record) is Side.BUY:
                return self._apply_entry(record, fills, rules, other_fees)
            return self._apply_exit(record, fills, rules, other_fees)

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

    def move_to_dust(self, position: Position, now: datetime, reason: ExitReason) -> Position:
        """Close a position too small to sell: its coins and cost become tracked dust."""
        with self.store.atomic():
            self.dust.add(position.symbol, Dust(position.quantity, position.cost_basis))
            return self.store.close_position(
                position.symbol, closed_at=now, realized_pnl=position.realized_pnl,
                exit_reason=reason,
            )

    def external_reduction(self, symbol: str, held: Decimal, now: datetime) -> Decimal:
        """The exchange holds less than position + dust (a manual sell): shrink the books to
        `held`, dust first, each at its average cost. Returns the quantity removed."""
        with self.store.atomic():
            dust = self.dust.get(symbol)
            position = self.store.open_position(symbol)
            quantity = position.quantity if position is not None else ZERO
            missing = quantity + dust.quantity - max(held, ZERO)
            if missing <= 0:
                return ZERO
            from_dust = min(missing, dust.quantity)
            if from_dust > 0:
                self.dust.set(symbol, _without(dust, from_dust))
            from_position = missing - from_dust
            if position is not None and from_position > 0:
                self._shrink(position, from_position, now)
            return missing

    def _shrink(self, position: Position, removed: Decimal, now: datetime) -> None:
        if removed >= position.quantity:
            self.store.close_position(
                position.symbol, closed_at=now, realized_pnl=position.realized_pnl,
                exit_reason=ExitReason.MANUAL,
            )
            return
        keep = (position.quantity - removed) / position.quantity
        position.entry_fees_quote *= keep
        position.quantity -= removed
        self.store.save_position(position)

    def _applied(self, record: OrderRecordView) -> Decimal:
        return Decimal(self.store.kv_get(_applied_key(record)) or "0")

    def _mark(self, record: OrderRecordView, quantity: Decimal) -> None:
        self.store.kv_set(_applied_key(record), str(quantity))

    def _apply_entry(
        self, record: OrderRecordView, fills: Sequence[Fill], rules: SymbolRules,
        other_fees: Decimal,
    ) -> PositionChange:
        target = entry_position(record.symbol, fills, rules, other_fees)
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
        self, record: OrderRecordView, fills: Sequence[Fill], rules: SymbolRules,
        other_fees: Decimal,
    ) -> PositionChange:
        s = summarize(fills, rules, other_fees)
        delta = s.quantity - self._applied(record)
        position = self.store.open_position(record.symbol)
        if delta <= 0 or position is None:
            if delta > 0:
                self._mark(record, s.quantity)
            return PositionChange("none", position)
        dust = self.dust.get(record.symbol)
        tracked = position.quantity + dust.quantity
        share = min(Decimal(1), delta / tracked) if tracked else Decimal(1)
        cost_sold = (position.cost_basis + dust.cost) * share
        fees = s.quote_commission * (delta / s.quantity)
        part_pnl = s.avg_price * delta - fees - cost_sold
        remaining = tracked - delta
        self._mark(record, s.quantity)
        if remaining <= 0 or is_dust(remaining, s.avg_price, rules):
            left = Dust(max(remaining, ZERO), position.cost_basis + dust.cost - cost_sold)
            return self._close(record, position, left, part_pnl, fills)
        # Quantities stay exact (they are compared with the exchange's balance): dust first.
        from_dust = min(delta, dust.quantity)
        from_position = delta - from_dust
        if from_dust > 0:
            self.dust.set(record.symbol, _without(dust, from_dust))
        kept = (position.quantity - from_position) / position.quantity
        position.quantity -= from_position
        position.entry_fees_quote *= kept
        position.realized_pnl += part_pnl
        self.store.kv_set(_exit_pnl_key(record), str(position.realized_pnl))
        self.store.save_position(position)
        return PositionChange("reduced", position, part_pnl)

    def _close(
        self, record: OrderRecordView, position: Position, left: Dust, part_pnl: Decimal,
        fills: Sequence[Fill],
    ) -> PositionChange:
        """Close the position; what was not sold stays as dust with its share of the cost."""
        self.dust.set(record.symbol, left)
        pnl = position.realized_pnl + part_pnl
        self.store.kv_set(_exit_pnl_key(record), str(pnl))
        closed = self.store.close_position(
            record.symbol, closed_at=max(f.time for f in fills), realized_pnl=pnl,
            exit_reason=record.exit_reason or ExitReason.SIGNAL,
        )
        note = f"{left.quantity} kept as dust" if left.quantity > 0 else ""
        return PositionChange("closed", closed, pnl, left.quantity, note)


def _without(dust: Dust, quantity: Decimal) -> Dust:
    """`dust` less `quantity` of it, its cost reduced in proportion (quantity exact)."""
    if quantity >= dust.quantity:
        return Dust()
    return Dust(dust.quantity - quantity, dust.cost * (dust.quantity - quantity) / dust.quantity)


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
