"""JSON answers as Binance sends them (`application/json`, compact)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

JSON = "application/json"


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type=JSON)
