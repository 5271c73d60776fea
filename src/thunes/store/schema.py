"""The current tables, as SQLAlchemy Core objects used for queries.

The DDL that creates them lives in `migrations.py` (frozen per version); a unit test checks
that a freshly migrated database has exactly these columns, so the two cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table

from thunes.store.columns import DateText, DecimalText, UTCDateTime

metadata = MetaData()

schema_meta = Table(
    "schema_meta",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("client_order_id", String, primary_key=True),
    Column("symbol", String, nullable=False),
    Column("side", String, nullable=False),
    Column("state", String, nullable=False),
    Column("quantity", DecimalText),
    Column("quote_quantity", DecimalText),
    Column("exchange_order_id", Integer),
    Column("executed_qty", DecimalText, nullable=False),
    Column("cumulative_quote_qty", DecimalText, nullable=False),
    Column("avg_price", DecimalText),
    Column("correlation_id", String, nullable=False),
    Column("exit_reason", String),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("error", String),
)

fills = Table(
    "fills",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("symbol", String, nullable=False),
    Column("trade_id", Integer, nullable=False),
    Column("client_order_id", String, nullable=False),
    Column("side", String, nullable=False),
    Column("price", DecimalText, nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("commission", DecimalText, nullable=False),
    Column("commission_asset", String, nullable=False),
    Column("time", UTCDateTime, nullable=False),
)

positions = Table(
    "positions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("symbol", String, nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("avg_entry_price", DecimalText, nullable=False),
    Column("entry_fees_quote", DecimalText, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("realized_pnl", DecimalText, nullable=False),
    Column("exit_reason", String),
)

risk_state = Table(
    "risk_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kill_switch", Integer, nullable=False),
    Column("kill_reason", String, nullable=False),
    Column("killed_at", UTCDateTime),
    Column("kill_day", DateText),
    Column("paused", Integer, nullable=False),
)

cooldowns = Table(
    "cooldowns",
    metadata,
    Column("symbol", String, primary_key=True),
    Column("until", UTCDateTime, nullable=False),
)

strategy_params = Table(
    "strategy_params",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("strategy", String, nullable=False),
    Column("symbol", String, nullable=False),
    Column("params_json", String, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("source", String, nullable=False),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("outcome", String, nullable=False),
    Column("error", String),
)

kv = Table(
    "kv",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

ranking_runs = Table(
    "ranking_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("timeframe", String, nullable=False),
    Column("as_of", UTCDateTime, nullable=False),
    Column("status", String, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("duration_s", Float, nullable=False),
    Column("considered", Integer, nullable=False),
    Column("ranked", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("peak_weight", Integer, nullable=False),
    Column("trigger", String, nullable=False),
    Column("error", String, nullable=False),
)

ranking_rows = Table(
    "ranking_rows",
    metadata,
    Column("run_id", Integer, ForeignKey("ranking_runs.id"), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("symbol", String, nullable=False),
    Column("bullish_score", DecimalText, nullable=False),
    Column("confidence", Integer, nullable=False),
    Column("quote_volume_24h", DecimalText, nullable=False),
    Column("reasons_json", String, nullable=False),
    Column("features_json", String, nullable=False),
)

ranking_failures = Table(
    "ranking_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("ranking_runs.id"), nullable=False),
    Column("symbol", String, nullable=False),
    Column("reason", String, nullable=False),
)

ranking_locks = Table(
    "ranking_locks",
    metadata,
    Column("timeframe", String, primary_key=True),
    Column("owner", String, nullable=False),
    Column("run_id", Integer),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

optimize_runs = Table(
    "optimize_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String, nullable=False),
    Column("strategy", String, nullable=False),
    Column("method", String, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("pid", Integer, nullable=False),
    Column("host", String, nullable=False),
    Column("process_start", String, nullable=False),
    Column("plan_json", String, nullable=False),
    Column("caps_json", String, nullable=False),
    Column("dataset_sha256", String, nullable=False),
    Column("build_cached", Integer, nullable=False),
    Column("stage", String, nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("leaderboard_json", String, nullable=False),
    Column("params_json", String, nullable=False),
    Column("metrics_json", String, nullable=False),
    Column("published_to", String, nullable=False),
    Column("error", String, nullable=False),
    Column("summary", String, nullable=False),
    Column("next_steps", String, nullable=False),
)
