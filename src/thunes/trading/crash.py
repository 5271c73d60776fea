"""Hooks between the steps of the order path, for tests that kill the process there."""

from __future__ import annotations


class CrashPoints:
    """Hooks between the steps of the order path; no-ops in production."""

    def hit(self, name: str) -> None:
        return None
