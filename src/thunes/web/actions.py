"""The dashboard's actions, shared by the pages and the API: the same switches and sentences as
the CLI and Telegram, each audited as `web_action`.

Kill, resume, pause and unpause go through the risk manager (persisted, so the running
daemon obeys at its next check). Force-exit goes through the force-exit callable, which records
the request and runs the symbol's check at once through the normal order path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from thunes.web.sources import DashboardSources

ACTIONS = ("kill", "resume", "pause", "unpause", "force-exit")
DEFAULT_KILL_REASON = "manual kill from the dashboard"
MAX_REASON = 200
SYMBOL = re.compile(r"^[A-Z0-9]{5,20}$")


class ActionRefused(ValueError):
    """A request the dashboard will not act on (unknown action, bad symbol); says why."""


@dataclass(frozen=True)
class ActionResult:
    action: str
    changed: bool
    message: str
    symbol: str | None = None


def clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())[:MAX_REASON]
    return text or DEFAULT_KILL_REASON


def clean_symbol(symbol: str | None) -> str:
    text = (symbol or "").strip().upper()
    if not SYMBOL.match(text):
        raise ActionRefused("symbol must be upper-case letters and digits, e.g. BTCUSDT")
    return text


async def perform(
    sources: DashboardSources, action: str, *, symbol: str | None = None,
    reason: str | None = None,
) -> ActionResult:
    """Carry out one action and say what happened."""
    if action not in ACTIONS:
        raise ActionRefused(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if action == "force-exit":
        chosen = clean_symbol(symbol)
        _audit(sources, action, symbol=chosen)
        message = await sources.force_exit(chosen)
        return ActionResult(action, True, message, chosen)
    result = _switch(sources, action, clean_reason(reason))
    _audit(sources, action, changed=result.changed)
    return result


def _switch(sources: DashboardSources, action: str, reason: str) -> ActionResult:
    risk = sources.risk
    if action == "kill":
        changed = risk.kill(reason)
        message = (f"Kill-switch ON ({reason}): new entries stop at the next check."
                   if changed else "The kill-switch was already on.")
    elif action == "resume":
        changed = risk.resume()
        message = ("Kill-switch OFF: entries are allowed again from the next check."
                   if changed else "The kill-switch was already off.")
    elif action == "pause":
        changed = risk.pause()
        message = ("Entries paused (exits keep running)." if changed
                   else "Entries were already paused.")
    else:
        changed = risk.unpause()
        message = "Entries unpaused." if changed else "Entries were not paused."
    return ActionResult(action, changed, message)


def _audit(sources: DashboardSources, action: str, **data: object) -> None:
    if sources.audit is not None:
        sources.audit.record("web_action", "", action=action, **data)
