"""How the dashboard starts (or does not) and that it serves every asset itself."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest

from tests.integration.web.conftest import TOKEN, Rig, api_login
from thunes.app.dashboard import start_dashboard
from thunes.app.validate import web_port_problems
from thunes.cli.doctor import _run_check
from thunes.config import load_settings
from thunes.web import DashboardServer, WebPortError
from thunes.web.server import static_dir


async def test_without_a_token_the_dashboard_does_not_start(tmp_path: Path) -> None:
    settings = load_settings(env_file=None, web_port=0, state_dir=tmp_path)
    built = SimpleNamespace(settings=settings)
    assert await start_dashboard(cast(Any, built), cast(Any, None)) is None


def test_a_web_port_in_use_is_refused_in_one_line_before_the_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = load_settings(env_file=None, web_port=port, api_token=TOKEN)
        (line,) = web_port_problems(settings)
        assert line.startswith(f"THUNES_WEB_PORT: cannot listen on 127.0.0.1:{port}")
        without_token = load_settings(env_file=None, web_port=port)
        assert web_port_problems(without_token) == []  # no dashboard, no port needed


async def test_a_web_port_in_use_stops_the_server_start(rig: Rig) -> None:
    assert rig.server.port
    second = DashboardServer(rig.server.sources, TOKEN, "127.0.0.1", rig.server.port)
    with pytest.raises(WebPortError) as refused:
        await second.start()
    assert refused.value.problems[0].startswith("THUNES_WEB_PORT: cannot listen on")


def test_the_static_files_are_package_data() -> None:
    names = {p.name for p in static_dir().iterdir()}
    assert {"app.css", "app.js", "favicon.svg"} <= names
    pyproject = (Path(__file__).parents[3] / "pyproject.toml").read_text()
    assert '"web/templates/*.html", "web/static/*"' in pyproject


async def test_every_asset_is_served_by_thunes(rig: Rig, client: aiohttp.ClientSession) -> None:
    await api_login(client, rig.url)
    async with client.get(f"{rig.url}/") as answer:
        html = await answer.text()
        policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    links = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links)
    for link in sorted(links):
        if link.startswith(("/static/", "/api/")):
            async with client.get(rig.url + link) as asset:
                assert asset.status == 200, link


def test_doctor_expects_the_web_port_a_running_daemon_holds() -> None:
    line = "THUNES_WEB_PORT: cannot listen on 127.0.0.1:8788: Address already in use"
    assert _run_check(line, daemon_is_running=True).status == "warn"
    assert _run_check(line, daemon_is_running=False).status == "fail"
