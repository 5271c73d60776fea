"""Rows under "System" that say why the daemon is unhealthy and which parameters it trades.

`thunes status` and Telegram's /health add them after the common health rows, so an operator
reads the reason for a 503 (e.g. signal checks failing in a row) and sees when published
parameters were refused and the defaults trade, without opening the `/health` JSON.
"""

from __future__ import annotations

from thunes.reports.snapshot import HealthSnapshot


def health_note_rows(health: HealthSnapshot) -> list[str]:
    rows = []
    if health.parameters:
        rows.append(f"  parameters       {health.parameters}")
    if health.reasons:
        rows.append("  why unhealthy")
        rows += [f"    {reason}" for reason in health.reasons]
    return rows
