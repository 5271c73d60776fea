"""What one check decides for one symbol, and the client order id each decision sends under.

An entry is one decision per closed bar: `symbol:bar_open_ms:ENTER`, one attempt, so re-running
a check for the same bar finds the order instead of sending a second one.

An exit is one decision per position (`symbol:opened_ms:EXIT`) with numbered attempts: while the
exit or stop condition holds, every check tries again, each attempt under its own id
(`…#n`), committed before it is sent. An attempt still in flight is resolved, never repeated;
one that provably never reached the exchange is resent under the same id; one that ended
(refused, expired, part-filled) is followed by attempt n + 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pandas as pd

from thunes.domain import (
    Action,
    ExitReason,
    Position,
    Side,
    Signal,
    client_order_id,
)
from thunes.strategy.rules import effective_stop, stop_loss_hit

ATTEMPT_PREFIX = "exit_attempt:"
REFUSALS_PREFIX = "exit_refusals:"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    signal: Signal | None
    bar_time: datetime | None
    exit_reason: ExitReason | None = None
    detail: str = ""

    @property
    def side(self) -> Side:
        return Side.BUY if self.action is Action.ENTER else Side.SELL


def decide(
    position: Position | None, price: Decimal, signal: Signal | None, default_stop: Decimal,
    forced: bool = False,
) -> Decision:
    """An operator's force-exit first, then the stop-loss (it needs only the price), then the
    strategy's signal.

    `signal` is None when the klines could not be read: a stop can still be decided, with the
    strategy's last known stop unavailable, so the configured default applies.
    """
    bar_time = signal.bar_time if signal is not None else None
    if forced and position is not None and position.is_open:
        return Decision(Action.EXIT, signal, bar_time, ExitReason.FORCED, "force-exit requested")
    if position is not None and position.is_open:
        stop = effective_stop(signal.stop_loss_pct if signal else None, default_stop)
        if stop_loss_hit(position.avg_entry_price, price, stop):
            detail = f"stop-loss: {price} <= {position.avg_entry_price} × (1 − {stop})"
            return Decision(Action.EXIT, signal, bar_time, ExitReason.STOP_LOSS, detail)
        if signal is None:
            return Decision(Action.HOLD, None, None, detail="no signal: klines unavailable")
        if signal.action is Action.EXIT:
            return Decision(Action.EXIT, signal, bar_time, ExitReason.SIGNAL, signal.reason)
        detail = "holding" if signal.action is Action.HOLD else "already holding"
        return Decision(Action.HOLD, signal, bar_time, detail=f"{detail}: {signal.reason}")
    if signal is None:
        return Decision(Action.HOLD, None, None, detail="no signal: klines unavailable")
    if signal.action is Action.ENTER:
        return Decision(Action.ENTER, signal, bar_time, detail=signal.reason)
    detail = "nothing to exit" if signal.action is Action.EXIT else signal.reason
    return Decision(Action.HOLD, signal, bar_time, detail=detail)


def _ms(moment: datetime) -> int:
    return int(pd.Timestamp(moment).timestamp() * 1000)


def entry_order_id(symbol: str, bar_time: datetime) -> str:
    """One entry per closed bar."""
    return client_order_id(f"{symbol}:{_ms(bar_time)}:{Action.ENTER.value}", symbol, Side.BUY)


def exit_key(position: Position) -> str:
    """The exit decision of one position (all its attempts share it)."""
    return f"{position.symbol}:{_ms(position.opened_at)}:{Action.EXIT.value}"


def exit_order_id(position: Position, attempt: int) -> str:
    return client_order_id(f"{exit_key(position)}#{attempt}", position.symbol, Side.SELL)
