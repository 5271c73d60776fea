"""The order state machine: which state may follow which, and nothing else.

    NEW_INTENT → SENT → (ACKED | UNKNOWN) → PARTIALLY_FILLED
               → FILLED | CANCELED | REJECTED | EXPIRED

The intent (with its deterministic client order id) is committed in NEW_INTENT, then SENT is
committed, and only then is the request sent. SENT and UNKNOWN mean "the exchange may have it":
they are resolved by asking the exchange by client order id, never by sending again.

One deliberate way back exists: an order marked REJECTED or EXPIRED with `NEVER_REACHED` (the
exchange provably never received it: the gateway said "not sent", or the lookup found nothing
after the order-creation window had passed) may be sent again with the *same* client order id
when the same decision is made again; and if the exchange later reports it after all, what the
exchange says wins (the inference is corrected, the fills are adopted). Every other move not in
the table raises.

Moves are always checked against the *stored* row, re-read right before the write, never a
copy taken before an await: a late answer cannot overwrite a newer state outside this table.
"""

from __future__ import annotations

from thunes.domain import OrderState
from thunes.exchange.types import OrderStatus

S = OrderState

# The error prefix of an order the exchange never received; such a decision may be resent.
NEVER_REACHED = "never reached the exchange"

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.NEW_INTENT: frozenset({S.SENT, S.REJECTED}),
    S.SENT: frozenset(
        {S.ACKED, S.UNKNOWN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED}
    ),
    S.UNKNOWN: frozenset(
        {S.ACKED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED}
    ),
    S.ACKED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    # Only for NEVER_REACHED orders: the same decision is sent again, same client order id.
    S.REJECTED: frozenset({S.SENT}),
    S.EXPIRED: frozenset({S.SENT}),
}

IN_FLIGHT = frozenset({S.NEW_INTENT, S.SENT, S.UNKNOWN, S.ACKED, S.PARTIALLY_FILLED})


class IllegalTransition(Exception):
    """A state change the order state machine does not allow (a bug, never a market event)."""

    def __init__(self, client_order_id: str, current: OrderState, target: OrderState) -> None:
        move = f"{current.value} → {target.value}"
        super().__init__(f"order {client_order_id}: {move} is not allowed")
        self.current = current
        self.target = target


def can_transition(current: OrderState, target: OrderState) -> bool:
    """Whether `target` may follow `current` (staying in place is always allowed)."""
    return target is current or target in TRANSITIONS[current]


def check_transition(
    client_order_id: str, current: OrderState, target: OrderState, error: str | None = None
) -> None:
    """Raise `IllegalTransition` unless the move is allowed.

    Leaving REJECTED/EXPIRED for SENT is allowed only when the order never reached the exchange.
    """
    if current in (S.REJECTED, S.EXPIRED) and never_reached(error) and target is not S.NEW_INTENT:
        return  # never reached: resend it, or take the exchange's word that it did arrive
    if not can_transition(current, target):
        raise IllegalTransition(client_order_id, current, target)
    if current in (S.REJECTED, S.EXPIRED) and target is S.SENT:
        raise IllegalTransition(client_order_id, current, target)


def never_reached(error: str | None) -> bool:
    """Whether an order's recorded error says the exchange never received it."""
    return bool(error) and str(error).startswith(NEVER_REACHED)


def state_from_exchange(status: OrderStatus) -> OrderState:
    """THUNES' state for an order status the exchange reports."""
    return _FROM_EXCHANGE[status]


_FROM_EXCHANGE: dict[OrderStatus, OrderState] = {
    OrderStatus.NEW: S.ACKED,
    OrderStatus.PENDING_NEW: S.ACKED,
    OrderStatus.PARTIALLY_FILLED: S.PARTIALLY_FILLED,
    OrderStatus.FILLED: S.FILLED,
    OrderStatus.CANCELED: S.CANCELED,
    OrderStatus.PENDING_CANCEL: S.ACKED,
    OrderStatus.REJECTED: S.REJECTED,
    OrderStatus.EXPIRED: S.EXPIRED,
    OrderStatus.EXPIRED_IN_MATCH: S.EXPIRED,
}
