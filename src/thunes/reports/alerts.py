"""Events described for the operator: one function per `EventKind`, transport-neutral.

Producers put these keys in `Event.data` (missing keys are shown as `n/a`, unknown keys are
listed at the end so nothing is silently lost):

- fill: symbol, side (BUY/SELL), price, quantity, fee, fee_asset, quote (notional),
  action ("entry"/"exit"; BUY means entry for long spot), pnl and exit_reason on exits
- order_rejected: symbol, side, reason (code), message, client_order_id
- kill_switch: on (bool), reason
- breaker: name, state ("open"/"closed"/"half-open"), failures
- stream: down_seconds (when down), symbols, last_disconnect
- job_failure: job_id, error
- lifecycle: action ("start"/"stop"), version, mode
- reconciliation: ok (bool), findings (list of str)
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
    fee_asset = str(d.get("fee_asset") or quote)
    lines.append(("fees", f"{fmt_num(d.get('fee'))} {fee_asset}"))
    severity = Severity.INFO
    if action == "exit":
        pnl = to_decimal(d.get("pnl"))
        lines.append(("PnL", fmt_money(pnl, quote, signed=True) + " (net of fees)"))
        if d.get("exit_reason"):
            lines.append(("reason", str(d["exit_reason"])))
        severity = Severity.GOOD if pnl is not None and pnl > 0 else Severity.WARN
    title = f"{'Entry' if action == 'entry' else 'Exit'} filled: {side} {symbol}"
    return Message(title, tuple(lines), severity)


def _describe_rejected(event: Event) -> Message:
    d = event.data
    lines = [
        ("reason", str(d.get("reason", "n/a"))),
        ("message", str(d.get("message", event.title))),
    ]
    if d.get("client_order_id"):
        lines.append(("order", str(d["client_order_id"])))
    title = f"Order rejected: {d.get('side', '?')} {d.get('symbol', '?')}"
    return Message(title, tuple(lines), Severity.ALERT)


def _describe_kill(event: Event) -> Message:
    on = bool(event.data.get("on", True))
    reason = str(event.data.get("reason") or "n/a")
    if on:
        return Message("Kill-switch ON: entries stopped", (("reason", reason),), Severity.ALERT)
    return Message("Kill-switch OFF: entries allowed", (("reason", reason),), Severity.GOOD)


def _describe_breaker(event: Event) -> Message:
    name = str(event.data.get("name", "?"))
    state = str(event.data.get("state", "?")).lower()
    lines = [("breaker", name), ("state", state)]
    if event.data.get("failures") is not None:
        lines.append(("failures", str(event.data["failures"])))
    severity = Severity.GOOD if state == "closed" else Severity.ALERT
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
    job = str(event.data.get("job_id", "?"))
    lines = (("job", job), ("error", str(event.data.get("error", event.title))))
    return Message(f"Job failed: {job}", lines, Severity.ALERT)


def _describe_lifecycle(event: Event) -> Message:
    d = event.data
    action = str(d.get("action", "")).lower()
    lines = (("version", str(d.get("version", "n/a"))), ("mode", str(d.get("mode", "n/a"))))
    verb = {"start": "started", "stop": "stopped"}.get(action, action or event.title)
    severity = Severity.INFO if action == "start" else Severity.WARN
    return Message(f"THUNES {verb}", lines, severity)


def _describe_reconciliation(event: Event) -> Message:
    findings = event.data.get("findings") or []
    ok = bool(event.data.get("ok", not findings))
    lines = tuple(("", f"• {f}") for f in findings) or (("", "no findings"),)
    title = "Reconciliation ok" if ok else f"Reconciliation: {len(findings)} finding(s)"
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
        EventKind.FILL: frozenset(
            {
                "symbol",
                "side",
                "price",
                "quantity",
                "fee",
                "fee_asset",
                "quote",
                "action",
                "pnl",
                "exit_reason",
                "client_order_id",
            }
        ),
        EventKind.ORDER_REJECTED: frozenset(
            {"symbol", "side", "reason", "message", "client_order_id"}
        ),
        EventKind.KILL_SWITCH: frozenset({"on", "reason"}),
        EventKind.BREAKER: frozenset({"name", "state", "failures"}),
        EventKind.STREAM: frozenset({"down_seconds", "symbols", "last_disconnect"}),
        EventKind.JOB_FAILURE: frozenset({"job_id", "error"}),
        EventKind.LIFECYCLE: frozenset({"action", "version", "mode"}),
        EventKind.RECONCILIATION: frozenset({"ok", "findings"}),
    }
)


def event_summary(data: Mapping[str, Any]) -> str:
    """One line `key=value, ...` for logs."""
    return ", ".join(f"{k}={_value(v)}" for k, v in data.items())
