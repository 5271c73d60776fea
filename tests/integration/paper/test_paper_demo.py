"""`thunes demo --paper`: paper mode when the source answers, one line and the simulator demo
when it does not. The source is `thunes sim --clock wall` in its own process, or a closed port."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import eventually

DEMO_TIMEOUT_S = 120.0


def demo_env(tmp_path: Path, source_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THUNES_")}
    env.update(
        THUNES_PAPER_SOURCE_URL=source_url,
        THUNES_STATE_DIR=str(tmp_path / "state"),
        THUNES_LOG_DIR=str(tmp_path / "logs"),
        COLUMNS="200",
    )
    return env


async def run_demo(tmp_path: Path, source_url: str, duration: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "thunes", "demo", "--paper", "--duration", duration,
        "--env-file", os.devnull,
        env=demo_env(tmp_path, source_url), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), DEMO_TIMEOUT_S)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.fixture
async def sim_process(closed_port: int, tmp_path: Path) -> AsyncIterator[str]:
    """`thunes sim --clock wall` as its own process: the "Binance public data" of this test."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "thunes", "sim", "--port", str(closed_port), "--clock", "wall",
        cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{closed_port}"

    async def answers() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(url + "/api/v3/ping") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    try:
        await eventually(answers, timeout=30.0, interval=0.2)  # type: ignore[arg-type]
        yield url
    finally:
        proc.terminate()
        await proc.wait()


async def test_demo_paper_says_so_in_one_line_and_runs_the_sim_demo_when_unreachable(
    closed_port: int, tmp_path: Path
) -> None:
    code, out = await run_demo(tmp_path, f"http://127.0.0.1:{closed_port}", "1")
    assert code == 0
    lines = [line for line in out.splitlines() if "not reachable" in line]
    assert len(lines) == 1
    assert f"127.0.0.1:{closed_port}" in lines[0]
    assert "running the simulator demo instead" in lines[0]
    assert "simulated" in out


async def test_demo_paper_trades_paper_on_a_reachable_source(
    sim_process: str, tmp_path: Path
) -> None:
    code, out = await run_demo(tmp_path, sim_process, "3")
    assert code == 0, out
    assert "not reachable" not in out
    assert f"PAPER on {sim_process}" in out
    assert "(PAPER)" in out  # the final status header
    assert list((tmp_path / "state").glob("demo*/paper_wallet.json"))
