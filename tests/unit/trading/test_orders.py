from __future__ import annotations

import itertools

import pytest

from thunes.domain import OrderState as S
from thunes.exchange.types import OrderStatus
from thunes.trading.orders import (
    IN_FLIGHT,
    NEVER_REACHED,
    IllegalTransition,
    can_transition,
    check_transition,
    state_from_exchange,
)


def test_the_happy_path_is_allowed() -> None:
    path = [S.NEW_INTENT, S.SENT, S.ACKED, S.PARTIALLY_FILLED, S.FILLED]
    for current, target in itertools.pairwise(path):
        check_transition("x", current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEW_INTENT, S.FILLED),  # nothing fills before it is sent
        (S.FILLED, S.SENT),  # a filled order is never sent again
        (S.FILLED, S.CANCELED),
        (S.CANCELED, S.FILLED),
        (S.UNKNOWN, S.SENT),  # unknown is resolved by lookup, never by resending
        (S.ACKED, S.SENT),
        (S.PARTIALLY_FILLED, S.ACKED),
    ],
)
def test_illegal_moves_raise(current: S, target: S) -> None:
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransition):
        check_transition("x", current, target)


def test_resend_only_when_the_exchange_never_got_it() -> None:
    with pytest.raises(IllegalTransition):
        check_transition("x", S.REJECTED, S.SENT, "-2010: insufficient balance")
    with pytest.raises(IllegalTransition):
        check_transition("x", S.EXPIRED, S.SENT, None)
    check_transition("x", S.EXPIRED, S.SENT, f"{NEVER_REACHED}: not found")


def test_in_flight_states_are_the_non_final_ones() -> None:
    assert {s for s in S if not s.is_final} == IN_FLIGHT


def test_exchange_statuses_map_to_states() -> None:
    assert state_from_exchange(OrderStatus.NEW) is S.ACKED
    assert state_from_exchange(OrderStatus.FILLED) is S.FILLED
    assert state_from_exchange(OrderStatus.EXPIRED_IN_MATCH) is S.EXPIRED
    assert {state_from_exchange(s) for s in OrderStatus} <= set(S)
