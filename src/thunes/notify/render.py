"""Telegram rendering: transport-neutral `Message`s become Telegram HTML (or plain) text.

Every value is HTML-escaped, so symbols or exchange error texts can never break the markup,
and long texts are split on line boundaries under Telegram's 4096-character limit.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from thunes.events import Event
from thunes.reports.alerts import describe_event
from thunes.reports.format import Message, Severity, to_plain
from thunes.reports.status import PAPER, mode_label

TELEGRAM_LIMIT = 4096
_ICONS = {
    Severity.INFO: "ℹ️",
    Severity.GOOD: "✅",
    Severity.WARN: "⚠️",
    Severity.ALERT: "🚨",
}


def message_html(message: Message) -> str:
    """Telegram HTML: bold title with a severity icon, one `label: value` line each."""
    out = [f"{_ICONS[message.severity]} <b>{escape(message.title)}</b>"]
    for label, value in message.lines:
        if label:
            out.append(f"{escape(label)}: <code>{escape(value)}</code>")
        else:
            out.append(escape(value))
    if message.footer:
        out.append(f"<i>{escape(message.footer)}</i>")
    return "\n".join(out)


def event_html(event: Event) -> str:
    return message_html(describe_event(event))


def event_html_for(mode: str) -> Callable[[Event], str]:
    """The alert renderer of a mode: in paper mode every alert starts with [PAPER]."""
    if mode != PAPER:
        return event_html
    return lambda event: f"[{mode_label(mode)}] {event_html(event)}"


def event_plain(event: Event) -> str:
    return to_plain(describe_event(event))


def preformatted_html(text: str) -> str:
    """A plain-text report (aligned columns) shown as-is in a monospace block."""
    return f"<pre>{escape(text)}</pre>"


def preformatted_chunks(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """`text` as `<pre>` messages, each under `limit` after HTML escaping."""
    step = limit - 20
    while True:
        out = [preformatted_html(chunk) for chunk in split_text(text, step)]
        if all(len(html) <= limit for html in out) or step <= 64:
            return out
        step //= 2


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at line ends when possible."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks if c.strip()]
