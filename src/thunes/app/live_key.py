"""Live mode trades only with an API key the exchange says cannot withdraw.

Checked in the exchange preflight: a key that can withdraw (or cannot trade spot) stops the
start-up. If the permissions cannot be read yet (exchange unreachable), the daemon runs but
does not trade, and the check is repeated before each reconciliation until it passes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from thunes.exchange.types import ExchangeError

Restrictions = Callable[[], Awaitable[dict[str, Any]]]


class KeyRefused(RuntimeError):
    """The key's permissions are unsafe for live trading; waiting cannot fix that."""


@dataclass(frozen=True)
class NotVerified:
    """A reconciliation stand-in: trading stays off until the key is verified."""

    error: str
    ok: bool = False


class LiveKeyGate:
    def __init__(self, restrictions: Restrictions, required: bool) -> None:
        self._restrictions = restrictions
        self.verified = not required

    async def verify(self) -> str | None:
        """None once verified; else why not (unreadable permissions). Raises `KeyRefused`."""
        if self.verified:
            return None
        try:
            permissions = await self._restrictions()
        except ExchangeError as exc:
            return f"API key permissions not verified yet: {exc}"
        if permissions.get("enableWithdrawals"):
            raise KeyRefused("the API key can withdraw: create a trade-only key for THUNES")
        if not permissions.get("enableSpotAndMarginTrading", False):
            raise KeyRefused("the API key cannot trade spot: enable spot trading for it")
        self.verified = True
        return None
