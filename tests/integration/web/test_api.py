"""The JSON API: its responses match its OpenAPI document, its numbers are the reports' numbers,
its actions change the same state as the CLI, and nothing it serves holds a secret."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.integration.web.conftest import MARK, SECRETS, TOKEN, Rig, api_login
from thunes.cli.status import collect
from thunes.reports.status import build_status, render_status_text
from thunes.web.openapi import document

READS = ("/status", "/positions", "/orders", "/trades?limit=10", "/pnl/daily?days=7",
         "/equity", "/health", "/jobs", "/ranking")


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(document())  # the document itself is checked by the validator


def validate(openapi: OpenAPI, method: str, url: str, status: int, body: bytes) -> None:
    path, _, query = url.partition("?")
    args = dict(part.split("=", 1) for part in query.split("&")) if query else {}
    request = MockRequest("http://127.0.0.1", method.lower(), path, args=args)
    response = MockResponse(body, status_code=status, content_type="application/json")
    openapi.validate_response(request, response)


async def call(client: aiohttp.ClientSession, rig: Rig, openapi: OpenAPI, method: str,
               path: str, expect: int = 200, **kwargs: Any) -> Any:
    url = "/api/v1" + path
    async with client.request(method, rig.url + url, **kwargs) as answer:
        body = await answer.read()
        assert answer.status == expect, body
    validate(openapi, method, url, answer.status, body)
    return json.loads(body)


def test_the_check_rejects_a_wrong_body(openapi: OpenAPI) -> None:
    wrong = json.dumps({"positions": [{"symbol": "BTCUSDT", "quantity": 0.1}],
                        "unrealized_pnl": None}).encode()
    with pytest.raises(Exception, match=r"positions|quantity"):
        validate(openapi, "GET", "/api/v1/positions", 200, wrong)


async def test_every_api_response_matches_the_openapi_document(
    rig: Rig, client: aiohttp.ClientSession, openapi: OpenAPI
) -> None:
    await call(client, rig, openapi, "GET", "/status", expect=401)
    await call(client, rig, openapi, "POST", "/session", expect=401, json={"token": "no"})
    csrf = await api_login(client, rig.url)
    for path in READS:
        await call(client, rig, openapi, "GET", path)
    await call(client, rig, openapi, "GET", "/orders?limit=0", expect=400)
    await call(client, rig, openapi, "GET", "/pnl/daily?days=x", expect=400)
    await call(client, rig, openapi, "POST", "/actions/kill", expect=403)
    headers = {"X-CSRF-Token": csrf}
    for action in ("kill", "resume", "pause", "unpause"):
        await call(client, rig, openapi, "POST", f"/actions/{action}", headers=headers)
    await call(client, rig, openapi, "POST", "/actions/force-exit", headers=headers,
               json={"symbol": "BTCUSDT"})
    await call(client, rig, openapi, "POST", "/actions/force-exit", expect=400,
               headers=headers, json={"symbol": "not a symbol"})
    await call(client, rig, openapi, "DELETE", "/session", headers=headers)


async def test_the_api_numbers_are_the_reports_numbers(
    rig: Rig, client: aiohttp.ClientSession, openapi: OpenAPI
) -> None:
    await api_login(client, rig.url)
    status = await call(client, rig, openapi, "GET", "/status")
    positions = await call(client, rig, openapi, "GET", "/positions")
    trades = await call(client, rig, openapi, "GET", "/trades")
    daily = await call(client, rig, openapi, "GET", "/pnl/daily?days=7")
    equity = await call(client, rig, openapi, "GET", "/equity")

    view = build_status(rig.store, rig.clock.now(), daily_loss_limit=Decimal("20"),
                        prices={"BTCUSDT": MARK})
    assert status["today_pnl"] == str(view.today_pnl) == "3.25"
    assert status["unrealized_pnl"] == str(view.unrealized_pnl)
    cli = collect(rig.store, rig.clock, daily_loss_limit=Decimal("20"))  # thunes status --json
    assert status["today_pnl"] == str(cli["summary"]["today_pnl"])
    assert status["daily_loss_used"] == str(cli["summary"]["daily_loss_used"])
    assert "+3.25 USDT" in render_status_text(view)

    (btc,) = positions["positions"]
    assert btc["unrealized_pnl"] == str(MARK * Decimal("0.002") - Decimal("46.046"))
    assert btc["stop_price"] == str(Decimal("23000") * (1 - Decimal("0.03")))
    assert btc["mark_price"] == str(MARK)
    assert [(t["symbol"], t["realized_pnl"]) for t in trades["trades"]] == [
        ("BTCUSDT", "-1.25"), ("ETHUSDT", "4.5")]
    assert daily["total"] == "3.25"
    assert [p["cumulative_pnl"] for p in equity["points"]] == ["4.5", "3.25"]


async def test_actions_switch_the_risk_state_like_the_cli(
    rig: Rig, client: aiohttp.ClientSession, openapi: OpenAPI
) -> None:
    headers = {"X-CSRF-Token": await api_login(client, rig.url)}
    kill = await call(client, rig, openapi, "POST", "/actions/kill", headers=headers,
                      json={"reason": "checking the web"})
    assert kill["changed"] and rig.store.risk_state().kill_reason == "checking the web"
    again = await call(client, rig, openapi, "POST", "/actions/kill", headers=headers)
    assert not again["changed"]
    await call(client, rig, openapi, "POST", "/actions/pause", headers=headers)
    assert rig.store.risk_state().paused
    status = await call(client, rig, openapi, "GET", "/status")
    assert (status["kill_switch"], status["paused"], status["entries_allowed"]) == (
        True, True, False)
    await call(client, rig, openapi, "POST", "/actions/resume", headers=headers)
    await call(client, rig, openapi, "POST", "/actions/unpause", headers=headers)
    state = rig.store.risk_state()
    assert (state.kill_switch, state.paused) == (False, False)
    entries = [json.loads(line) for line in rig.audit_path.read_text().splitlines()]
    switches = [(e["data"]["switch"], e["data"]["on"]) for e in entries
                if e["kind"] == "kill_switch"]
    assert switches == [("kill", True), ("pause", True), ("kill", False), ("pause", False)]
    web = [e["data"]["action"] for e in entries if e["kind"] == "web_action"]
    assert web == ["kill", "kill", "pause", "resume", "unpause"]


async def test_force_exit_goes_to_the_force_exit_path(
    rig: Rig, client: aiohttp.ClientSession, openapi: OpenAPI
) -> None:
    headers = {"X-CSRF-Token": await api_login(client, rig.url)}
    result = await call(client, rig, openapi, "POST", "/actions/force-exit", headers=headers,
                        json={"symbol": "btcusdt"})
    assert result["message"] == "BTCUSDT: sold (force-exit)."
    assert rig.force_exits.calls == ["BTCUSDT"]
    await call(client, rig, openapi, "POST", "/actions/sell-everything", expect=400,
               headers=headers)
    assert rig.force_exits.calls == ["BTCUSDT"]


async def test_the_equity_chart_starts_at_zero_with_a_point_per_closed_trade(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    await api_login(client, rig.url)
    async with client.get(f"{rig.url}/") as answer:
        html = await answer.text()
    assert 'data-points="3"' in html
    path = re.search(r'<path d="M([^"]+)"', html)
    assert path is not None and len(path.group(1).split(" L")) == 3


async def test_no_page_or_response_contains_a_secret(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    seen: dict[str, str] = {}

    async def fetch(method: str, path: str, **kwargs: Any) -> None:
        async with client.request(method, rig.url + path, allow_redirects=False,
                                  **kwargs) as answer:
            seen[f"{method} {path} {answer.status}"] = (
                await answer.text() + json.dumps(dict(answer.headers)))

    await fetch("GET", "/login")
    await fetch("POST", "/login", data={"token": "wrong"})
    await fetch("POST", "/login", data={"token": TOKEN})
    csrf = await api_login(client, rig.url)
    for path in ("/", "/trades", "/jobs", "/ranking", "/confirm/kill", "/confirm/resume",
                 "/confirm/force-exit?symbol=BTCUSDT", "/static/app.css", "/static/app.js"):
        await fetch("GET", path)
    for path in (*READS, "/openapi.json"):
        await fetch("GET", "/api/v1" + path)
    await fetch("POST", "/actions/kill", data={"csrf": csrf, "reason": f"leak {TOKEN}"})
    await fetch("GET", "/")
    await fetch("POST", "/api/v1/actions/pause", headers={"X-CSRF-Token": csrf})
    await fetch("GET", "/api/v1/status")
    for where, text in seen.items():
        for secret in SECRETS:
            assert secret not in text, f"{where} shows a secret"
    assert "bot***" in seen["GET /jobs 200"]  # the health reason was shown, scrubbed
