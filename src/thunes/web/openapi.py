"""The OpenAPI 3.1 document of `/api/v1/`, served at `/api/v1/openapi.json`.

A test validates the server's responses against it, so it cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from thunes import __version__

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?(E[-+]?[0-9]+)?$",
           "description": "an exact decimal as text"}
NULL_DECIMAL = {**DECIMAL, "type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
TEXT = {"type": "string"}
NULL_TEXT = {"type": ["string", "null"]}


def _obj(properties: dict[str, Any], *, extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties,
            "additionalProperties": extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(key: str, item: str) -> dict[str, Any]:
    return _obj({key: {"type": "array", "items": _ref(item)}})


SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": TEXT}, extra=True),
    "Status": _obj({
        "time": TIME, "mode": TEXT, "version": TEXT, "daemon": NULL_TEXT,
        "entries_allowed": {"type": "boolean"}, "kill_switch": {"type": "boolean"},
        "kill_reason": TEXT, "paused": {"type": "boolean"},
        "cooldowns": {"type": "object", "additionalProperties": TIME},
        "today_pnl": DECIMAL, "daily_loss_used": DECIMAL, "daily_loss_limit": DECIMAL,
        "unrealized_pnl": NULL_DECIMAL, "open_positions": {"type": "integer", "minimum": 0},
        "healthy": {"type": ["boolean", "null"]},
        "unhealthy": {"type": "array", "items": TEXT},
        "reasons": {"type": "array", "items": TEXT},
    }),
    "Position": _obj({
        "symbol": TEXT, "quantity": DECIMAL, "avg_entry_price": DECIMAL, "cost": DECIMAL,
        "opened_at": TIME, "mark_price": NULL_DECIMAL, "unrealized_pnl": NULL_DECIMAL,
        "stop_price": NULL_DECIMAL,
    }),
    "Positions": _obj({"positions": {"type": "array", "items": _ref("Position")},
                       "unrealized_pnl": NULL_DECIMAL}),
    "Order": _obj({
        "client_order_id": TEXT, "symbol": TEXT, "side": {"enum": ["BUY", "SELL"]},
        "state": TEXT, "quantity": NULL_DECIMAL, "quote_quantity": NULL_DECIMAL,
        "executed_qty": DECIMAL, "avg_price": NULL_DECIMAL, "exit_reason": NULL_TEXT,
        "created_at": TIME, "updated_at": TIME, "error": NULL_TEXT,
    }),
    "Orders": _list_of("orders", "Order"),
    "Trade": _obj({
        "symbol": TEXT, "opened_at": TIME, "closed_at": TIME, "quantity": DECIMAL,
        "entry_price": DECIMAL, "realized_pnl": DECIMAL, "exit_reason": TEXT,
        "exit_price": NULL_DECIMAL, "fees": NULL_DECIMAL, "side": TEXT,
    }),
    "Trades": _list_of("trades", "Trade"),
    "DayPnl": _obj({"day": {"type": "string", "format": "date"}, "pnl": DECIMAL,
                    "cumulative": DECIMAL}),
    "DailyPnl": _obj({"days": {"type": "array", "items": _ref("DayPnl")}, "total": DECIMAL}),
    "EquityPoint": _obj({"at": TIME, "cumulative_pnl": DECIMAL}),
    "Equity": _list_of("points", "EquityPoint"),
    "Health": _obj({
        "status": {"enum": ["ok", "unhealthy", "unknown"]},
        "unhealthy": {"type": "array", "items": TEXT},
        "components": {"type": "object", "additionalProperties": {"type": "object"}},
    }, extra=True),
    "Job": _obj({"job_id": TEXT, "outcome": NULL_TEXT, "started_at": NULL_TIME,
                 "finished_at": NULL_TIME, "error": NULL_TEXT, "next_run": NULL_TIME}),
    "Jobs": _obj({"jobs": {"type": "array", "items": _ref("Job")},
                  "breakers": {"type": "object", "additionalProperties": {"type": "boolean"}}}),
    "Ranking": _obj({
        "enabled": {"type": "boolean"},
        "timeframes": {"type": "object",
                       "additionalProperties": {"type": ["object", "null"]}},
    }),
    "Login": _obj({"token": TEXT}),
    "Session": _obj({"csrf": TEXT}),
    "LoggedOut": _obj({"logged_out": {"type": "boolean"}}),
    "ActionRequest": {"type": "object", "properties": {"symbol": TEXT, "reason": TEXT}},
    "ActionResult": _obj({"action": TEXT, "changed": {"type": "boolean"}, "message": TEXT,
                          "symbol": NULL_TEXT}),
}

LIMIT = {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}
DAYS = {"name": "days", "in": "query", "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30}}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    "400": _json("Error", "a bad parameter"),
    "401": _json("Error", "no session: log in first"),
    "503": _json("Error", "the dashboard is disabled (THUNES_API_TOKEN is not set)"),
}


def _read(schema: str, summary: str, *params: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": list(params),
                    "security": [{"session": []}],
                    "responses": {"200": _json(schema, summary), **ERRORS}}}


ACTION_NAMES = ["kill", "resume", "pause", "unpause", "force-exit"]


def _writes() -> dict[str, Any]:
    """Logging in and out, and the actions."""
    return {
        "/api/v1/session": {
            "post": {
                "summary": "log in with THUNES_API_TOKEN; sets the session cookie",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("Login")}}},
                "responses": {"200": _json("Session", "logged in; the CSRF token for actions"),
                              "429": _json("Error", "too many bad logins: see Retry-After"),
                              **ERRORS},
            },
            "delete": {
                "summary": "log out", "security": [{"session": [], "csrf": []}],
                "responses": {"200": _json("LoggedOut", "logged out"),
                              "403": _json("Error", "no or wrong CSRF token"), **ERRORS},
            },
        },
        "/api/v1/actions/{action}": {
            "post": {
                "summary": "kill, resume, pause, unpause, or force-exit a position",
                "security": [{"session": [], "csrf": []}],
                "parameters": [{"name": "action", "in": "path", "required": True,
                                "schema": {"enum": ACTION_NAMES}}],
                "requestBody": {"required": False, "content": {
                    "application/json": {"schema": _ref("ActionRequest")}}},
                "responses": {"200": _json("ActionResult", "what happened"),
                              "403": _json("Error", "no or wrong CSRF token"), **ERRORS},
            }
        },
    }


def document() -> dict[str, Any]:
    """The whole document."""
    paths: dict[str, Any] = {
        "/api/v1/status": _read("Status", "mode, risk switches, today's PnL, health"),
        "/api/v1/positions": _read("Positions", "open positions with unrealised PnL and stop"),
        "/api/v1/orders": _read("Orders", "the latest orders, newest first", LIMIT),
        "/api/v1/trades": _read("Trades", "the latest closed trades, newest first", LIMIT),
        "/api/v1/pnl/daily": _read("DailyPnl", "realised PnL per UTC day", DAYS),
        "/api/v1/equity": _read("Equity", "cumulative realised PnL after each closed trade"),
        "/api/v1/health": _read("Health", "the daemon's /health report"),
        "/api/v1/jobs": _read("Jobs", "scheduled jobs (last run, next run) and breakers"),
        "/api/v1/ranking": _read("Ranking", "the latest ranking of each ranked timeframe"),
        **_writes(),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "THUNES dashboard API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "thunes_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }
