"""The outgoing alert queue: bounded for chatter, never dropping what moves money or stops trading.

During a Telegram outage the queue fills. What matters afterwards is what happened to the
money: fills, rejected orders, kill-switch changes, exits the exchange keeps refusing, a degraded
audit trail. So a full queue makes room by dropping the oldest message of the least important
kind in `DROP_ORDER`; a kind that is not listed there is never dropped (it is queued past the
bound instead), so a new alert kind is safe until someone decides it is chatter. Delivery stays
first in, first out.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

# Droppable kinds, least important first. Every other kind (fill, order_rejected, kill_switch,
# and any kind added later, e.g. a repeated exit refusal or a degraded audit trail) is kept.
DROP_ORDER: tuple[frozenset[str], ...] = (
    frozenset({"lifecycle"}),
    frozenset({"stream"}),
    frozenset({"breaker", "job_failure"}),
    frozenset({"reconciliation", "report", "daily"}),
)
KEPT = len(DROP_ORDER)  # the rank of a kind that is never dropped


def rank(kind: str) -> int:
    """How important `kind` is: its index in `DROP_ORDER`, or `KEPT`."""
    for index, kinds in enumerate(DROP_ORDER):
        if kind in kinds:
            return index
    return KEPT


def is_droppable(kind: str) -> bool:
    return rank(kind) < KEPT


@dataclass
class Outgoing:
    """One queued message: HTML text, or a photo with a short caption."""

    kind: str
    text: str
    photo: bytes | None = None
    html: bool = True


class AlertQueue:
    """FIFO of outgoing messages; `put` never blocks and says what, if anything, it dropped."""

    def __init__(self, bound: int) -> None:
        self.bound = max(1, bound)
        self._items: deque[Outgoing] = deque()
        self._ready = asyncio.Event()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def would_drop(self, kind: str) -> bool:
        """True when a `kind` message put now would be dropped itself (so skip rendering it).

        A hint only, callable from any thread: `put` (on the loop) decides."""
        if len(self._items) < self.bound or not is_droppable(kind):
            return False
        try:
            return self._victim(rank(kind)) is None
        except RuntimeError:  # the loop changed the queue meanwhile: let `put` decide
            return False

    def put(self, item: Outgoing) -> Outgoing | None:
        """Queue `item`; returns the message dropped to make room (maybe `item`), or None."""
        dropped: Outgoing | None = None
        if len(self._items) >= self.bound:
            victim = self._victim(rank(item.kind))
            if victim is not None:
                dropped = self._items[victim]
                del self._items[victim]
            elif is_droppable(item.kind):
                return item
        self._items.append(item)
        self._ready.set()
        return dropped

    async def get(self) -> Outgoing:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def _victim(self, below: int) -> int | None:
        """Index of the oldest queued message of the least important kind ranked below `below`."""
        best: tuple[int, int] | None = None
        for index, item in enumerate(self._items):
            item_rank = rank(item.kind)
            if item_rank < below and (best is None or item_rank < best[0]):
                best = (item_rank, index)
        return None if best is None else best[1]
