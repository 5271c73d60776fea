"""Circuit breakers for the exchange, one per path so one path's outage never blocks another:

- `market_data`: klines, prices, book tickers, exchangeInfo, server time;
- `orders`: the order lifecycle (create, look up an order and its trades): exits depend on it,
  so nothing else's failures count here;
- `account`: balances, open-order listings, trade history, key permissions (Telegram `/balance`,
  reconciliation).

pybreaker provides the state machine (closed → open after `fail_max` consecutive failures →
half-open after `reset_timeout` → closed on a success, open again on a failure). THUNES calls
are async, so instead of wrapping calls (pybreaker's async path needs tornado) the gateway asks
`check(name)` before sending and reports the outcome with `record(name, error)` afterwards.

Only failures of the *service* count (`TemporaryError` other than 429); a refused order or a bad
parameter means the exchange is answering, so it counts as a success.

pybreaker measures the reset timeout with the wall clock; `_ClockStorage` maps that onto the
injected `Clock`, so simulated or manual time drives half-opening as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pybreaker

from thunes.clock import Clock
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.types import BreakerOpenError, RateLimitedError, TemporaryError

log = logging.getLogger(__name__)

MARKET_DATA = "market_data"
ORDERS = "orders"
ACCOUNT = "account"
BREAKER_NAMES = (MARKET_DATA, ORDERS, ACCOUNT)


@dataclass(frozen=True, slots=True)
class BreakerChange:
    name: str
    old_state: str
    new_state: str
    time: datetime


BreakerListener = Callable[[BreakerChange], None]


class _ClockStorage(pybreaker.CircuitMemoryStorage):
    """Keeps `opened_at` in the injected clock's time and answers in wall-clock terms."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(pybreaker.STATE_CLOSED)
        self._clock = clock
        self._opened_clock: float | None = None

    @property
    def opened_at(self) -> datetime | None:
        if self._opened_clock is None:
            return None
        elapsed = self._clock.time() - self._opened_clock
        return datetime.now(UTC) - timedelta(seconds=elapsed)

    @opened_at.setter
    def opened_at(self, _wall_time: datetime) -> None:
        self._opened_clock = self._clock.time()

    def seconds_open(self) -> float | None:
        return None if self._opened_clock is None else self._clock.time() - self._opened_clock


class _Relay(pybreaker.CircuitBreakerListener):
    def __init__(self, monitor: CircuitBreakerMonitor) -> None:
        self._monitor = monitor

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        old = old_state.name if old_state is not None else "none"
        self._monitor._changed(str(cb.name), old, new_state.name)


def counts_as_failure(error: BaseException) -> bool:
    """Whether an outcome is a failure of the service (it opens breakers)."""
    return isinstance(error, TemporaryError) and not isinstance(error, RateLimitedError)


class _Outcome(Exception):
    """Carries a service failure into pybreaker's accounting."""


class CircuitBreakerMonitor:
    """The named breakers, their states, and who is told when one changes."""

    def __init__(
        self,
        clock: Clock,
        fail_max: int = 5,
        reset_timeout: float = 60.0,
        names: Iterable[str] = BREAKER_NAMES,
        events: EventBus | None = None,
    ) -> None:
        self._clock = clock
        self._events = events
        self._listeners: list[BreakerListener] = []
        self._storage: dict[str, _ClockStorage] = {}
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}
        self.reset_timeout = reset_timeout
        for name in names:
            storage = _ClockStorage(clock)
            self._storage[name] = storage
            self._breakers[name] = pybreaker.CircuitBreaker(
                fail_max=fail_max,
                reset_timeout=reset_timeout,
                listeners=[_Relay(self)],
                state_storage=storage,
                name=name,
                throw_new_error_on_trip=False,
            )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._breakers)

    def add_listener(self, listener: BreakerListener) -> None:
        self._listeners.append(listener)

    def _breaker(self, name: str) -> pybreaker.CircuitBreaker:
        try:
            return self._breakers[name]
        except KeyError:
            raise KeyError(
                f"unknown breaker {name!r}; known: {', '.join(self._breakers)}"
            ) from None

    def state(self, name: str) -> str:
        """`closed`, `open` or `half-open` (open past its reset timeout reads half-open)."""
        breaker = self._breaker(name)
        current = str(breaker.current_state)
        if current == pybreaker.STATE_OPEN and not self._still_open(name):
            return pybreaker.STATE_HALF_OPEN
        return current

    def is_open(self, name: str) -> bool:
        """Whether calls through `name` are refused right now."""
        return self.state(name) == pybreaker.STATE_OPEN

    def _still_open(self, name: str) -> bool:
        seconds = self._storage[name].seconds_open()
        return seconds is not None and seconds < self._breaker(name).reset_timeout

    def check(self, name: str) -> None:
        """Raise `BreakerOpenError` when `name` refuses calls; nothing is sent then."""
        if self.is_open(name):
            raise BreakerOpenError(name)

    def record(self, name: str, error: BaseException | None = None) -> None:
        """Account one finished call: a service failure, or a success (any other outcome)."""
        breaker = self._breaker(name)
        failed = error is not None and counts_as_failure(error)

        def outcome() -> None:
            if failed:
                raise _Outcome(str(error))

        try:
            breaker.call(outcome)
        except _Outcome:
            pass
        except pybreaker.CircuitBreakerError:
            pass  # an answer that arrived after the breaker opened: already accounted

    def reset(self, name: str) -> None:
        """Close a breaker by hand (operator command)."""
        self._breaker(name).close()

    def snapshot(self) -> dict[str, str]:
        return {name: self.state(name) for name in self._breakers}

    def _changed(self, name: str, old: str, new: str) -> None:
        change = BreakerChange(name, old, new, self._clock.now())
        log.warning("circuit breaker %s: %s -> %s", name, old, new)
        if self._events is not None:
            self._events.publish(
                Event(
                    kind=EventKind.BREAKER,
                    title=f"circuit breaker {name} {new}",
                    time=change.time,
                    data={"name": name, "old_state": old, "new_state": new},
                )
            )
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:
                log.exception("breaker listener failed")
