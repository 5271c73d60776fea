"""Prometheus metrics of one daemon, on a private registry (no global state between tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DaemonMetrics:
    """Counters and gauges the daemon updates; `/metrics` renders `registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.checks = Counter("thunes_signal_checks", "Signal checks run", ["outcome"], registry=r)
        self.check_seconds = Histogram(
            "thunes_signal_check_seconds",
            "Wall time of one signal check",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.decisions = Counter(
            "thunes_decisions", "Strategy decisions by action", ["symbol", "action"], registry=r
        )
        self.orders = Counter("thunes_orders", "Orders by outcome", ["side", "outcome"], registry=r)
        self.rejections = Counter(
            "thunes_rejections", "Rejected entries or orders by reason", ["reason"], registry=r
        )
        self.realized_pnl_today = Gauge(
            "thunes_realized_pnl_today_quote", "Realised PnL today, net of fees", registry=r
        )
        self.open_positions = Gauge("thunes_open_positions", "Open positions", registry=r)
        self.kill_switch = Gauge("thunes_kill_switch", "1 when the kill-switch is on", registry=r)
        self.breaker_open = Gauge(
            "thunes_breaker_open", "1 when the named circuit breaker is open", ["name"], registry=r
        )
        self.stream_connected = Gauge(
            "thunes_stream_connected", "1 when the price stream is connected", registry=r
        )
        self.stream_age = Gauge(
            "thunes_stream_message_age_seconds", "Age of the last price", ["symbol"], registry=r
        )
        self.stream_reconnects = Gauge(
            "thunes_stream_reconnects_last_hour", "Stream reconnects in the last hour", registry=r
        )
        self.stream_dropped = Gauge(
            "thunes_stream_dropped_messages", "Stream messages dropped", ["reason"], registry=r
        )
        self.job_seconds = Gauge(
            "thunes_job_last_duration_seconds", "Last run duration", ["job"], registry=r
        )
        self.job_runs = Counter(
            "thunes_job_runs", "Job runs by outcome", ["job", "status"], registry=r
        )
        self.alerts_dropped = Gauge(
            "thunes_alerts_dropped", "Alerts dropped by the notification queue", registry=r
        )
