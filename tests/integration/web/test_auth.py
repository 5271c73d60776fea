"""Login, sessions, CSRF and the bad-login backoff of the dashboard, over real HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from tests.integration.web.conftest import TOKEN, Rig, api_login, start_rig
from thunes.store import Store
from thunes.web.auth import COOKIE, FREE_ATTEMPTS, SESSION_IDLE_S


async def test_login_with_the_token_sets_an_httponly_strict_session_cookie(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    async with client.post(f"{rig.url}/login", data={"token": TOKEN},
                           allow_redirects=False) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == "/"
        cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    async with client.get(f"{rig.url}/") as page:
        assert page.status == 200
        assert "BTCUSDT" in await page.text()


async def test_pages_and_api_need_a_session(rig: Rig, client: aiohttp.ClientSession) -> None:
    for path in ("/", "/trades", "/jobs", "/ranking", "/confirm/kill"):
        async with client.get(rig.url + path, allow_redirects=False) as answer:
            assert (path, answer.status, answer.headers.get("Location")) == (path, 303, "/login")
    async with client.get(f"{rig.url}/api/v1/status") as answer:
        assert answer.status == 401
    async with client.get(f"{rig.url}/api/v1/openapi.json") as answer:
        assert answer.status == 200  # the document is public; it holds no data


async def test_a_wrong_token_is_refused(rig: Rig, client: aiohttp.ClientSession) -> None:
    async with client.post(f"{rig.url}/login", data={"token": TOKEN + "x"}) as answer:
        assert answer.status == 401
        assert "Wrong token" in await answer.text()
    async with client.post(f"{rig.url}/api/v1/session", json={"token": ""}) as answer:
        assert answer.status == 401
    async with client.get(f"{rig.url}/", allow_redirects=False) as answer:
        assert answer.status == 303


async def test_repeated_bad_logins_are_slowed_per_client(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    async def attempt(token: str) -> aiohttp.ClientResponse:
        async with client.post(f"{rig.url}/api/v1/session", json={"token": token}) as answer:
            await answer.read()
            return answer

    for _ in range(FREE_ATTEMPTS):
        assert (await attempt("wrong")).status == 401
    # Now even the right token is not looked at until the wait is over.
    refused = await attempt(TOKEN)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    rig.ticks.now += 1.0
    assert (await attempt("wrong")).status == 401  # the 4th failure: the wait doubles
    rig.ticks.now += 1.5
    assert (await attempt(TOKEN)).status == 429
    assert (await attempt(TOKEN)).headers["Retry-After"] == "1"
    rig.ticks.now += 0.5
    assert (await attempt(TOKEN)).status == 200
    assert (await attempt("wrong")).status == 401  # a success cleared the count


async def test_state_changing_requests_need_the_session_and_the_csrf_token(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    async with client.post(f"{rig.url}/api/v1/actions/kill") as answer:
        assert answer.status == 401
    csrf = await api_login(client, rig.url)
    async with client.post(f"{rig.url}/api/v1/actions/kill") as answer:
        assert answer.status == 403
    async with client.post(f"{rig.url}/api/v1/actions/kill",
                           headers={"X-CSRF-Token": "forged"}) as answer:
        assert answer.status == 403
    async with client.post(f"{rig.url}/actions/kill", data={"csrf": "forged"}) as answer:
        assert answer.status == 403
    assert not rig.store.risk_state().kill_switch
    async with client.post(f"{rig.url}/actions/kill", data={"csrf": csrf, "reason": "test"},
                           allow_redirects=False) as answer:
        assert answer.status == 303
    assert rig.store.risk_state().kill_switch
    assert rig.store.risk_state().kill_reason == "test"


async def test_the_confirm_page_carries_the_sessions_csrf_token(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    csrf = await api_login(client, rig.url)
    async with client.get(f"{rig.url}/confirm/force-exit?symbol=BTCUSDT") as answer:
        text = await answer.text()
    assert re.search(rf'name="csrf" value="{re.escape(csrf)}"', text)
    assert 'name="symbol" value="BTCUSDT"' in text
    assert rig.force_exits.calls == []  # confirming is a second step


async def test_a_session_ends_after_a_quiet_spell_and_on_logout(
    rig: Rig, client: aiohttp.ClientSession
) -> None:
    csrf = await api_login(client, rig.url)
    rig.ticks.now += SESSION_IDLE_S + 1
    async with client.get(f"{rig.url}/api/v1/status") as answer:
        assert answer.status == 401
    csrf = await api_login(client, rig.url)
    async with client.delete(f"{rig.url}/api/v1/session",
                             headers={"X-CSRF-Token": csrf}) as answer:
        assert answer.status == 200
    async with client.get(f"{rig.url}/api/v1/status") as answer:
        assert answer.status == 401


async def test_without_a_token_the_dashboard_only_says_it_is_disabled(
    tmp_path: Path, store: Store, client: aiohttp.ClientSession
) -> None:
    rig = await start_rig(tmp_path, store, token="")
    try:
        for path in ("/", "/login", "/api/v1/status"):
            async with client.get(rig.url + path, allow_redirects=False) as answer:
                assert answer.status == 503
                assert "THUNES_API_TOKEN" in await answer.text()
        async with client.post(f"{rig.url}/api/v1/session", json={"token": ""}) as answer:
            assert answer.status == 503
    finally:
        await rig.server.stop()
