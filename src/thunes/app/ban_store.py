"""The exchange ban's end, kept in the state database so a restart honours it."""

from __future__ import annotations

import logging
import math

from thunes.config import Mode
from thunes.store import Store

log = logging.getLogger(__name__)


def ban_key(mode: Mode) -> str:
    """One key per mode: a ban from testnet's host says nothing about live's."""
    return f"exchange.ban_until.{mode.value}"


class KvBanStore:
    """`BanStore` over the store's kv table (epoch seconds as text; empty when no ban)."""

    def __init__(self, store: Store, mode: Mode) -> None:
        self.store = store
        self.key = ban_key(mode)

    def load(self) -> float | None:
        raw = self.store.kv_get(self.key)
        if not raw:
            return None
        try:
            until = float(raw)
        except ValueError:
            log.warning("ignoring an unreadable ban end %r in the state database", raw)
            return None
        return until if math.isfinite(until) else None

    def save(self, until: float | None) -> None:
        self.store.kv_set(self.key, "" if until is None else repr(until))
