"""The bounded alert queue: what a full queue drops, and what it never drops."""

from __future__ import annotations

import asyncio

from thunes.events import EventKind
from thunes.notify.alert_queue import AlertQueue, Outgoing, is_droppable


def item(kind: str, text: str = "") -> Outgoing:
    return Outgoing(kind, text or kind)


def test_a_full_queue_drops_the_least_important_kind_first() -> None:
    queue = AlertQueue(4)
    for kind in ("reconciliation", "breaker", "stream", "lifecycle"):
        assert queue.put(item(kind)) is None
    dropped = [queue.put(item("fill", f"fill {n}")) for n in range(4)]
    assert [d.kind for d in dropped if d is not None] == [
        "lifecycle",
        "stream",
        "breaker",
        "reconciliation",
    ]


def test_money_and_kill_switch_kinds_are_never_dropped_even_past_the_bound() -> None:
    queue = AlertQueue(2)
    never = ("fill", "order_rejected", "kill_switch", "exit_blocked", "audit")
    for kind in never * 3:
        assert queue.put(item(kind)) is None
    assert queue.qsize() == 15
    assert not any(is_droppable(kind) for kind in never)


def test_every_known_event_kind_is_ranked_and_the_critical_ones_are_kept() -> None:
    kept = {k for k in EventKind if not is_droppable(k.value)}
    assert {EventKind.FILL, EventKind.ORDER_REJECTED, EventKind.KILL_SWITCH} <= kept
    assert is_droppable(EventKind.LIFECYCLE.value) and is_droppable(EventKind.STREAM.value)


def test_chatter_into_a_queue_full_of_its_betters_is_dropped_itself() -> None:
    queue = AlertQueue(2)
    queue.put(item("breaker", "b1"))
    queue.put(item("fill", "f1"))
    arriving = item("lifecycle")
    assert queue.would_drop("lifecycle")
    assert queue.put(arriving) is arriving
    assert not queue.would_drop("fill")
    same_rank = item("breaker", "b2")
    assert queue.put(same_rank) is same_rank  # nothing less important queued: the newcomer goes
    assert queue.qsize() == 2


async def test_delivery_is_first_in_first_out_after_an_eviction() -> None:
    queue = AlertQueue(3)
    for text, kind in (("a", "fill"), ("b", "lifecycle"), ("c", "kill_switch")):
        queue.put(item(kind, text))
    queue.put(item("fill", "d"))
    assert [(await queue.get()).text for _ in range(3)] == ["a", "c", "d"]


async def test_get_waits_for_the_next_put() -> None:
    queue = AlertQueue(3)
    asyncio.get_running_loop().call_soon(queue.put, item("fill", "late"))
    assert queue.empty()
    assert (await asyncio.wait_for(queue.get(), 5)).text == "late"
