"""Events described for the operator: one function per `EventKind`, transport-neutral.

Producers put these keys in `Event.data` (missing keys are shown as `n/a`, unknown keys are
listed at the end so nothing is silently lost):

- fill: symbol, side (BUY/SELL), price, quantity, fee (or commission), fee_asset (or
  commission_asset), quote (notional), action ("entry"/"exit"; BUY means entry for long
  spot), pnl and exit_reason on exits (shown when present)
- order_rejected: symbol, side, reason (code), message (or detail), client_order_id
- kill_switch: on (bool), reason
- breaker: name, state (or new_state: "open"/"closed"/"half-open"), failures, until
- stream: down_seconds (when down), symbols, last_disconnect
- job_failure: job_id (or job), error
- lifecycle: action ("start"/"stop") or a title such as "THUNES started", version, mode
- reconciliation: ok (bool; else read from the title), why, findings (list of str)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from thunes.events import Event, EventKind
from thunes.reports.format import (
    Message,
    Severity,
    fmt_duration,
    fmt_money,
    fmt_num,
    fmt_time,
    to_decimal,
)

_KNOWN_KEYS: dict[EventKind, frozenset[str]] = {}


def describe_event(event: Event) -> Message:
    """The operator-facing message for any event."""
    describer = _DESCRIBERS.get(event.kind, _describe_generic)
    message = describer(event)
    extra = _extra_lines(event)
    footer = fmt_time(event.time)
    if event.correlation_id:
        footer += f" · {event.correlation_id}"
    return Message(
        message.title, message.lines + extra, message.severity, footer, (event.kind.value,)
    )


def _extra_lines(event: Event) -> tuple[tuple[str, str], ...]:
    known = _KNOWN_KEYS.get(event.kind)
    if known is None:
        return ()
    return tuple((str(key), _value(value)) for key, value in event.data.items() if key not in known)


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    if to_decimal(value) is not None and not isinstance(value, str | bool):
        return fmt_num(value)
    return str(value)


def _quote_asset(symbol: str) -> str:
    for quote in ("USDT", "USDC", "FDUSD", "BUSD", "BTC", "ETH", "BNB", "EUR"):
        if symbol.endswith(quote) and symbol != quote:
            return quote
    return ""


def _describe_fill(event: Event) -> Message:
    d = event.data
    symbol = str(d.get("symbol", "?"))
    side = str(d.get("side", "?")).upper()
    action = str(d.get("action") or ("entry" if side == "BUY" else "exit")).lower()
    quote = _quote_asset(symbol) or "USDT"
    lines: list[tuple[str, str]] = [
        ("price", fmt_num(d.get("price"))),
        ("quantity", fmt_num(d.get("quantity"))),
    ]
    if d.get("quote") is not None:
        lines.append(("value", fmt_money(d.get("quote"), quote)))
    fee = d.get("fee", d.get("commission"))
    fee_asset = str(d.get("fee_asset") or d.get("commission_asset") or quote)
    if fee is not None:
        lines.append(("fees", f"{fmt_num(fee)} {fee_asset}"))
    severity = Severity.INFO
    pnl = to_decimal(d.get("pnl"))
    if action == "exit" and pnl is not None:
        lines.append(("PnL", fmt_money(pnl, quote, signed=True) + " (net of fees)"))
        severity = Severity.GOOD if pnl > 0 else Severity.WARN
    if action == "exit" and d.get("exit_reason"):
        lines.append(("reason", str(d["exit_reason"])))
    title = f"{'Entry' if action == 'entry' else 'Exit'} filled: {side} {symbol}"
    return Message(title, tuple(lines), severity)


def _describe_rejected(event: Event) -> Message:
    d = event.data
    lines = [("message", str(d.get("message") or d.get("detail") or event.title))]
    if d.get("reason"):
        lines.insert(0, ("reason", str(d["reason"])))
    if d.get("client_order_id"):
        lines.append(("order", str(d["client_order_id"])))
    side = f"{d['side']} " if d.get("side") else ""
    title = f"Order rejected: {side}{d.get('symbol', '?')}"
    return Message(title, tuple(lines), Severity.ALERT)


def _describe_kill(event: Event) -> Message:
    on = bool(event.data.get("on", True))
    reason = str(event.data.get("reason") or "n/a")
    if on:
        return Message("Kill-switch ON: entries stopped", (("reason", reason),), Severity.ALERT)
    return Message("Kill-switch OFF: entries allowed", (("reason", reason),), Severity.GOOD)


def _describe_breaker(event: Event) -> Message:
    name = str(event.data.get("name", "?"))
    state = str(event.data.get("state") or event.data.get("new_state") or "?").lower()
    lines = [("breaker", name), ("state", state)]
    for key in ("failures", "until"):
        if event.data.get(key) is not None:
            lines.append((key, str(event.data[key])))
    severity = {"closed": Severity.GOOD, "half-open": Severity.WARN}.get(state, Severity.ALERT)
    return Message(f"Breaker {name} {state}", tuple(lines), severity)


def _describe_stream(event: Event) -> Message:
    d = event.data
    down = d.get("down_seconds")
    lines = [("symbols", _value(d.get("symbols", [])))]
    if down is not None:
        lines.append(("down for", fmt_duration(float(down))))
    if d.get("last_disconnect"):
        lines.append(("last disconnect", str(d["last_disconnect"])))
    recovered = "recover" in event.title.lower()
    severity = Severity.GOOD if recovered else Severity.ALERT
    title = event.title[:1].upper() + event.title[1:] if event.title else "Price stream"
    return Message(title, tuple(lines), severity)


def _describe_job(event: Event) -> Message:
    job = str(event.data.get("job_id") or event.data.get("job") or "?")
    lines = (("job", job), ("error", str(event.data.get("error", event.title))))
    return Message(f"Job failed: {job}", lines, Severity.ALERT)


def _describe_lifecycle(event: Event) -> Message:
    d = event.data
    action = str(d.get("action", "")).lower()
    lines = tuple((key, str(d[key])) for key in ("version", "mode") if d.get(key))
    if action in ("start", "stop"):
        title = f"THUNES {'started' if action == 'start' else 'stopped'}"
    else:
        title = event.title or "THUNES"
    words = ("stop", "pause", "refused")  # refused: published parameters, defaults trade
    stopping = action == "stop" or any(word in title.lower() for word in words)
    return Message(title, lines, Severity.WARN if stopping else Severity.INFO)


def _describe_reconciliation(event: Event) -> Message:
    findings = event.data.get("findings") or []
    if "ok" in event.data:
        ok = bool(event.data["ok"])
    else:
        ok = "fail" not in event.title.lower() and not findings
    lines = tuple(("", f"• {f}") for f in findings) or (("", "no findings"),)
    if event.data.get("why"):
        lines = (("why", str(event.data["why"])), *lines)
    title = "Reconciliation ok" if ok else f"Reconciliation: {len(findings)} finding(s)"
    if "fail" in event.title.lower():
        title = f"Reconciliation failed: {len(findings)} finding(s)"
    return Message(title, lines, Severity.INFO if ok else Severity.ALERT)


def _describe_generic(event: Event) -> Message:
    lines = tuple((str(k), _value(v)) for k, v in event.data.items())
    return Message(event.title or event.kind.value, lines)


_DESCRIBERS: dict[EventKind, Callable[[Event], Message]] = {
    EventKind.FILL: _describe_fill,
    EventKind.ORDER_REJECTED: _describe_rejected,
    EventKind.KILL_SWITCH: _describe_kill,
    EventKind.BREAKER: _describe_breaker,
    EventKind.STREAM: _describe_stream,
    EventKind.JOB_FAILURE: _describe_job,
    EventKind.LIFECYCLE: _describe_lifecycle,
    EventKind.RECONCILIATION: _describe_reconciliation,
}

_KNOWN_KEYS.update(
    {
        kind: frozenset(keys.split())
        for kind, keys in {
            EventKind.FILL: "symbol side price quantity fee fee_asset quote action pnl"
            " exit_reason client_order_id commission commission_asset trade_id",
            EventKind.ORDER_REJECTED: "symbol side reason message detail client_order_id",
            EventKind.KILL_SWITCH: "on reason",
            EventKind.BREAKER: "name state failures old_state new_state until",
            EventKind.STREAM: "down_seconds symbols last_disconnect",
            EventKind.JOB_FAILURE: "job_id job error",
            EventKind.LIFECYCLE: "action version mode symbols",
            EventKind.RECONCILIATION: "ok why findings",
        }.items()
    }
)


def event_summary(data: Mapping[str, Any]) -> str:
    """One line `key=value, ...` for logs."""
    return ", ".join(f"{k}={_value(v)}" for k, v in data.items())
