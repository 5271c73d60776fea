"""The daemon with ranking enabled: the job ranks at start, /status and /rankings answer."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.helpers import eventually
from thunes.orchestration import jobs
from thunes.store.rankings import RankingStore

TOKEN = "daemon-trigger-token-42"


async def get(url: str, token: str | None = None, method: str = "GET") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.request(method, url, headers=headers) as r:
        is_json = r.content_type == "application/json"
        return r.status, (await r.json()) if is_json else await r.text()


async def test_the_daemon_ranks_its_timeframes_and_serves_them(start_inprocess: Any) -> None:
    running = await start_inprocess(
        rank_timeframes=["1h"], rank_min_quote_volume="0", api_token=TOKEN
    )
    rankings = RankingStore.of(running.built.store)
    await eventually(lambda: rankings.latest_success("1h"), timeout=30)
    base = running.health_url.removesuffix("/health")
    status, body = await get(base + "/status")
    hourly = body["ranking"]["timeframes"]["1h"]
    assert status == 200 and hourly["last_success"]["status"] == "success"
    assert hourly["next_run"] is not None
    assert jobs.ranking_job_id("1h") in running.daemon.scheduler.next_runs()
    status, snapshot = await get(base + "/rankings/1h")
    assert status == 200 and snapshot["timeframe"] == "1h"
    ranked = {row["symbol"] for row in snapshot["ranked"]}
    skipped = {row["symbol"] for row in snapshot["skipped"]}
    assert ranked | skipped == {"BTCUSDT", "ETHUSDT"}
    assert (await get(base + "/trigger/1h", method="POST"))[0] == 401
    status, triggered = await get(base + "/trigger/1h", token=TOKEN, method="POST")
    assert status in (202, 409) and isinstance(triggered["run_id"], int)


async def test_without_rank_timeframes_there_is_no_ranking_job_or_endpoint(
    start_inprocess: Any,
) -> None:
    running = await start_inprocess()
    await eventually(lambda: running.daemon.health_server and running.daemon.health_server.port)
    assert not any(j.startswith(jobs.RANKING_PREFIX) for j in running.daemon.scheduler.next_runs())
    status, _ = await get(running.health_url.removesuffix("/health") + "/status")
    assert status == 404
