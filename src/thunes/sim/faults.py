"""Fault injection: the failures a trading daemon must survive, on demand and reproducibly.

Tests call these methods (or POST /sim/faults) to make the next responses fail in a chosen way.
Counters count down as requests consume them; `clear()` puts everything back to normal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultState:
    fail_count: int = 0
    fail_status: int = 503
    drop_count: int = 0
    delay_seconds: float = 0.0
    delay_count: int = -1
    rate_limited_count: int = 0
    ban_count: int = 0
    retry_after: int = 0
    lost_order_responses: int = 0
    lost_hang_seconds: float = 0.0
    skew_ms: int = 0
    silenced: bool = False
    malformed_messages: int = 0
    close_generation: int = 0
    paths: tuple[str, ...] = field(default_factory=tuple)
    corrupt_count: int = 0
    corrupt_field: str = ""
    corrupt_value: Any = None
    corrupt_paths: tuple[str, ...] = field(default_factory=tuple)


class FaultInjector:
    """Switches the simulator reads on every request and every stream message."""

    def __init__(self) -> None:
        self.state = FaultState()
        self.on_close_streams: Callable[[], None] | None = None

    # ---- REST ---------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, paths: tuple[str, ...] = ()) -> None:
        """The next `n` requests (optionally only to `paths`) answer HTTP `status` (5xx)."""
        self.state.fail_count, self.state.fail_status, self.state.paths = n, status, tuple(paths)

    def drop_next(self, n: int = 1) -> None:
        """The next `n` requests get no answer: the connection is closed without a response.

        aiohttp clients retry an idempotent request (GET) once on such a drop; use n=2 to make
        one GET fail.
        """
        self.state.drop_count = n

    def delay(self, seconds: float, n: int = -1) -> None:
        """Delay responses by `seconds` of real time (`n` responses, or all when -1)."""
        self.state.delay_seconds, self.state.delay_count = seconds, n

    def rate_limit(self, retry_after: int = 5, n: int = 1) -> None:
        """The next `n` requests answer 429 with `Retry-After`."""
        self.state.rate_limited_count, self.state.retry_after = n, retry_after

    def ban(self, retry_after: int = 120, n: int = 1) -> None:
        """The next `n` requests answer 418 (IP banned) with `Retry-After`."""
        self.state.ban_count, self.state.retry_after = n, retry_after

    def lose_order_response(self, n: int = 1, hang: float = 0.0) -> None:
        """The next `n` new orders are executed, but the client never hears back.

        The connection is closed after `hang` real seconds (0: at once); a hang longer than the
        client's timeout makes the client time out instead of seeing a disconnect.
        """
        self.state.lost_order_responses, self.state.lost_hang_seconds = n, hang

    def corrupt_field(
        self, field: str, value: Any, n: int = 1, paths: tuple[str, ...] = ()
    ) -> None:
        """The next `n` successful answers (optionally only from `paths`) carry `value` in every
        JSON member named `field` (e.g. "price" → "NaN"); the request itself takes effect."""
        state = self.state
        state.corrupt_field, state.corrupt_value = field, value
        state.corrupt_count, state.corrupt_paths = n, tuple(paths)

    def skew_clock(self, ms: int) -> None:
        """Shift the server's clock by `ms` (timestamps, serverTime, market data)."""
        self.state.skew_ms = ms

    # ---- streams ------------------------------------------------------------------------------

    def close_streams(self) -> None:
        """Close every open WebSocket connection now."""
        self.state.close_generation += 1
        if self.on_close_streams is not None:
            self.on_close_streams()

    def silence_streams(self, on: bool = True) -> None:
        """Stop sending stream data while keeping the sockets open (pings still answered)."""
        self.state.silenced = on

    def malformed_stream_message(self, n: int = 1) -> None:
        """Send `n` malformed JSON frames on each stream before normal data resumes."""
        self.state.malformed_messages = n

    def clear(self) -> None:
        """Back to a healthy exchange (stream connections already closed stay closed)."""
        generation = self.state.close_generation
        self.state = FaultState(close_generation=generation)

    # ---- consumption by the server ------------------------------------------------------------

    @staticmethod
    def _take(count: int) -> tuple[bool, int]:
        if count == 0:
            return False, 0
        return True, (count - 1 if count > 0 else count)

    def take_fail(self, path: str) -> int | None:
        """HTTP status to fail this request with, if a failure is pending."""
        state = self.state
        if state.paths and not any(path.endswith(p) for p in state.paths):
            return None
        hit, state.fail_count = self._take(state.fail_count)
        return state.fail_status if hit else None

    def take_drop(self) -> bool:
        hit, self.state.drop_count = self._take(self.state.drop_count)
        return hit

    def take_delay(self) -> float:
        hit, self.state.delay_count = self._take(self.state.delay_count)
        return self.state.delay_seconds if hit else 0.0

    def take_rate_limit(self) -> bool:
        hit, self.state.rate_limited_count = self._take(self.state.rate_limited_count)
        return hit

    def take_ban(self) -> bool:
        hit, self.state.ban_count = self._take(self.state.ban_count)
        return hit

    def take_lost_order(self) -> bool:
        hit, self.state.lost_order_responses = self._take(self.state.lost_order_responses)
        return hit

    def take_corruption(self, path: str) -> Callable[[Any], Any] | None:
        """How to rewrite this answer's JSON body, if a corruption is pending for `path`."""
        state = self.state
        if state.corrupt_paths and not any(path.endswith(p) for p in state.corrupt_paths):
            return None
        hit, state.corrupt_count = self._take(state.corrupt_count)
        if not hit:
            return None
        name, value = state.corrupt_field, state.corrupt_value
        return lambda body: _replace_member(body, name, value)

    def take_malformed(self) -> bool:
        hit, self.state.malformed_messages = self._take(self.state.malformed_messages)
        return hit

    def apply(self, command: dict[str, Any]) -> None:
        """Apply one admin command, e.g. `{"fault": "fail_next", "n": 2, "status": 502}`."""
        name = str(command.get("fault", ""))
        allowed = {
            "fail_next",
            "drop_next",
            "delay",
            "rate_limit",
            "ban",
            "lose_order_response",
            "skew_clock",
            "close_streams",
            "corrupt_field",
            "silence_streams",
            "malformed_stream_message",
            "clear",
        }
        if name not in allowed:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(allowed))}")
        arguments = {k: v for k, v in command.items() if k != "fault"}
        if "paths" in arguments:
            arguments["paths"] = tuple(arguments["paths"])
        getattr(self, name)(**arguments)


def _replace_member(body: Any, name: str, value: Any) -> Any:
    """`body` with every object member called `name`, at any depth, set to `value`."""
    if isinstance(body, dict):
        return {k: value if k == name else _replace_member(v, name, value) for k, v in body.items()}
    if isinstance(body, list):
        return [_replace_member(item, name, value) for item in body]
    return body
