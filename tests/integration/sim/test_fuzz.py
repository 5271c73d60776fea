"""A schema-driven sweep: every parameter spot_api.yaml documents for an endpoint the simulator
serves gets malformed values (and every mandatory one goes missing); the answer is always a
Binance error body with a 4xx, or a 200 — never a 5xx, which a bot must read as "outcome unknown".
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import yaml

from tests.integration.sim.conftest import call
from tests.integration.sim.test_contract import SPEC
from thunes.sim import Simulator, SimulatorConfig
from thunes.sim.rest import V3

AUTH = frozenset({"timestamp", "signature", "recvWindow"})
MALFORMED = [
    "abc", "null", "0.5", "-5", "", "1e3", "9" * 30, "[", '["x"]', "btcusdt", "%", "é", " 1",
    "0", "NaN", "true",
]  # fmt: skip
VALID = {
    "symbol": "BTCUSDT",
    "interval": "1h",
    "side": "BUY",
    "type": "MARKET",
    "quantity": "0.001",
    "orderId": "1",
}


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    required: tuple[str, ...]
    signed: bool


@functools.cache
def _spec() -> dict[str, Any]:
    with SPEC.open() as handle:
        return dict(yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def _operations(served: set[tuple[str, str]]) -> Iterator[Operation]:
    spec = _spec()
    shared = spec["components"].get("parameters", {})
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if (method.upper(), path) not in served or not isinstance(op, dict):
                continue
            params = [
                shared[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                for p in op.get("parameters", [])
            ]
            names = tuple(p["name"] for p in params)
            yield Operation(
                method.upper(),
                path,
                tuple(n for n in names if n not in AUTH),
                tuple(p["name"] for p in params if p.get("required") and p["name"] not in AUTH),
                "signature" in names,
            )


@pytest.fixture
async def roomy(sim_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    config = dataclasses.replace(sim_config, weight_limit=10**9, order_limit_10s=10**9)
    async with Simulator(config) as simulator:
        yield simulator


def _served(sim: Simulator) -> set[tuple[str, str]]:
    return {(e.method, V3 + e.path) for e in sim.rest.endpoints()}


async def _check(
    http: aiohttp.ClientSession, sim: Simulator, op: Operation, params: dict[str, Any]
) -> None:
    status, body, _ = await call(http, sim, op.method, op.path, params, signed=op.signed)
    where = f"{op.method} {op.path} {params}"
    assert status < 500, f"{where}: {status} {body}"
    if status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("code"), int), f"{where}: {body}"


async def test_the_sweep_covers_every_endpoint(roomy: Simulator) -> None:
    covered = {(op.method, op.path) for op in _operations(_served(roomy))}
    assert covered == _served(roomy)


async def test_malformed_parameters_never_get_a_5xx(
    roomy: Simulator, http: aiohttp.ClientSession
) -> None:
    for op in _operations(_served(roomy)):
        base = {name: VALID.get(name, "1") for name in op.required}
        for name in op.params:
            for value in MALFORMED:
                await _check(http, roomy, op, {**base, name: value})


async def test_missing_mandatory_parameters_never_get_a_5xx(
    roomy: Simulator, http: aiohttp.ClientSession
) -> None:
    for op in _operations(_served(roomy)):
        base = {name: VALID.get(name, "1") for name in op.required}
        for name in op.required:
            without = {k: v for k, v in base.items() if k != name}
            status, body, _ = await call(http, roomy, op.method, op.path, without, op.signed)
            assert 400 <= status < 500 and isinstance(body["code"], int), (op, name, body)
