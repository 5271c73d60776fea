"""Rendering: the same words and numbers in plain text and Telegram HTML, safely escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from thunes.events import Event, EventKind
from thunes.notify.render import event_html, event_plain, preformatted_chunks, split_text
from thunes.notify.transport import Outcome, classify, redact
from thunes.reports.alerts import describe_event
from thunes.reports.format import Severity, fmt_duration, fmt_money, fmt_num

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_entry_fill_has_price_quantity_fees_and_no_pnl() -> None:
    event = Event(
        EventKind.FILL,
        "fill",
        NOW,
        {
            "symbol": "ETHUSDT",
            "side": "BUY",
            "price": Decimal("2000.10"),
            "quantity": Decimal("0.0050"),
            "fee": Decimal("0.00000500"),
            "fee_asset": "ETH",
        },
    )
    message = describe_event(event)
    assert message.title == "Entry filled: BUY ETHUSDT"
    assert dict(message.lines) == {"price": "2000.1", "quantity": "0.005", "fees": "0.000005 ETH"}


def test_exit_fill_shows_pnl_net_of_fees_and_a_loss_is_a_warning() -> None:
    event = Event(
        EventKind.FILL,
        "fill",
        NOW,
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "price": "43000",
            "quantity": "0.001",
            "fee": "0.043",
            "pnl": Decimal("-1.234"),
            "exit_reason": "stop_loss",
        },
    )
    message = describe_event(event)
    lines = dict(message.lines)
    assert lines["PnL"] == "-1.23 USDT (net of fees)"
    assert lines["reason"] == "stop_loss"
    assert message.severity is Severity.WARN


def test_html_escapes_every_value_and_plain_has_no_markup() -> None:
    event = Event(
        EventKind.ORDER_REJECTED,
        "rejected",
        NOW,
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "reason": "EXCHANGE_REJECTED",
            "message": "Filter failure: <NOTIONAL> & more",
            "extra_key": 5,
        },
    )
    html = event_html(event)
    assert "&lt;NOTIONAL&gt; &amp; more" in html and "<NOTIONAL>" not in html
    assert "extra_key" in html  # unknown keys are shown, not lost
    plain = event_plain(event)
    assert "<b>" not in plain and "Filter failure: <NOTIONAL> & more" in plain


def test_every_kind_has_a_specific_title() -> None:
    samples = {
        EventKind.KILL_SWITCH: ({"on": True, "reason": "daily loss"}, "Kill-switch ON"),
        EventKind.BREAKER: ({"name": "orders", "state": "open"}, "Breaker orders open"),
        EventKind.STREAM: ({"down_seconds": 125}, "Price stream down"),
        EventKind.JOB_FAILURE: ({"job_id": "signal_check", "error": "boom"}, "Job failed"),
        EventKind.LIFECYCLE: (
            {"action": "start", "version": "0.1.0", "mode": "sim"},
            "THUNES started",
        ),
        EventKind.RECONCILIATION: (
            {"ok": False, "findings": ["unknown order"]},
            "Reconciliation: 1",
        ),
    }
    for kind, (data, title) in samples.items():
        message = describe_event(Event(kind, "price stream down", NOW, data))
        assert message.title.startswith(title), (kind, message.title)
    stream = describe_event(
        Event(EventKind.STREAM, "price stream down", NOW, {"down_seconds": 125})
    )
    assert dict(stream.lines)["down for"] == "2m05s"


def test_number_formatting_is_exact_and_plain() -> None:
    assert fmt_num(Decimal("1E+1")) == "10"
    assert fmt_num(Decimal("0.000100")) == "0.0001"
    assert fmt_money(Decimal("1.006"), signed=True) == "+1.01 USDT"
    assert fmt_money(Decimal("0.0042")) == "0.00420000 USDT"
    assert fmt_money(None) == "n/a"
    assert fmt_duration(3725) == "1h02m"


def test_split_text_respects_the_limit_and_keeps_everything() -> None:
    text = "\n".join(f"row {i:04d}" for i in range(2000))
    chunks = split_text(text, 1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert "\n".join(chunks) == text
    assert split_text("x" * 2500, 1000) == ["x" * 1000, "x" * 1000, "x" * 500]
    html = preformatted_chunks("<&>\n" * 3000)
    assert all(len(c) <= 4096 and c.startswith("<pre>") for c in html)


def test_tokens_are_redacted_from_error_details() -> None:
    token = "123456789:AAHsecret_token-value"
    assert token not in redact(f"GET https://api.telegram.org/bot{token}/getMe failed", token)
    assert "AAHsecret" not in redact("bot987654321:ABCDEFGHIJKLMNOP/x")
    result = classify(RuntimeError(f"boom {token}"), token)
    assert result.outcome is Outcome.TRANSIENT and token not in result.detail


def test_payloads_of_the_actual_producers_render_well() -> None:
    fill = describe_event(
        Event(
            EventKind.FILL,
            "BUY BTCUSDT",
            NOW,
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "price": "43000.10",
                "quantity": "0.00023",
                "client_order_id": "th-b-1",
                "commission": "0.00000023",
                "commission_asset": "BTC",
            },
        )
    )
    assert fill.title == "Entry filled: BUY BTCUSDT"
    assert dict(fill.lines)["fees"] == "0.00000023 BTC"
    assert "client_order_id" not in dict(fill.lines)
    breaker = describe_event(
        Event(
            EventKind.BREAKER,
            "circuit breaker orders closed",
            NOW,
            {"name": "orders", "old_state": "half-open", "new_state": "closed"},
        )
    )
    assert breaker.title == "Breaker orders closed" and breaker.severity is Severity.GOOD
    started = describe_event(
        Event(
            EventKind.LIFECYCLE,
            "THUNES started",
            NOW,
            {"version": "0.1.0", "mode": "sim", "symbols": ["BTCUSDT"]},
        )
    )
    assert started.title == "THUNES started" and dict(started.lines)["mode"] == "sim"
    paused = describe_event(Event(EventKind.LIFECYCLE, "Entries paused", NOW, {}))
    assert paused.title == "Entries paused" and paused.lines == ()
    job = describe_event(
        Event(EventKind.JOB_FAILURE, "job daily failed", NOW, {"job": "daily", "error": "x"})
    )
    assert job.title == "Job failed: daily"
    rec = describe_event(
        Event(
            EventKind.RECONCILIATION,
            "reconciliation failed",
            NOW,
            {"why": "exchange unreachable", "findings": []},
        )
    )
    assert rec.title.startswith("Reconciliation failed") and rec.severity is Severity.ALERT
    rejected = describe_event(
        Event(
            EventKind.ORDER_REJECTED,
            "BTCUSDT order rejected",
            NOW,
            {"symbol": "BTCUSDT", "client_order_id": "th-b-2", "detail": "-2010 insufficient"},
        )
    )
    assert rejected.title == "Order rejected: BTCUSDT"
    assert dict(rejected.lines)["message"] == "-2010 insufficient"
