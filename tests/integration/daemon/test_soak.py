"""The SIGKILL soak of `scripts/soak.py`, short: a few kills of the real daemon in sim mode.

The same code as `make soak` (loaded from the script, nothing re-implemented here): kills aimed
at the order path (right after an `order_sent` audit line, while the store holds an order in
flight, right after an `order_outcome` and a `fill` line), one at a random moment and one during
start-up, then a SIGTERM while an order is in flight and a graceful stop on a settled state.
After every kill: each client order id at most once on the exchange, no decision with two
orders, store orders equal exchange orders, positions equal balances net of tracked dust, every
fill audited, the audit trail verifies, and /health is 200 again within the bound.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.integration.daemon.conftest import START_BOUND_S

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "soak.py"


def load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("thunes_soak", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_short_soak_kills_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    soak = load_soak()
    lines: list[str] = []
    config = soak.SoakConfig(
        kills=6,
        sigterms=1,
        seed=12,
        speed=1000.0,
        kinds=("order_sent", "store_in_flight", "fill", "order_outcome", "random", "startup"),
        max_random_delay_s=2.0,
        aim_timeout_s=8.0,
        healthy_bound_s=START_BOUND_S,  # a busy 2-core machine (`make soak` holds 10 s)
        settle_checks=2,
        cli_verify_every=1000,  # the CLI verify runs once, at the settled end
        workdir=tmp_path,
        log=lines.append,
    )
    result = soak.run_soak(config)
    report = "\n".join(f"{name}: {value}" for name, value in result.summary())
    report += "".join(f"\n{violation}" for violation in result.violations)
    assert result.kills >= 6, report
    assert result.orders > 0 and result.fills > 0, report  # the order path ran
    assert sum(result.aimed_kills.values()) >= 2, report
    assert result.sigterm_codes == [0], report
    assert result.cli_verifies >= 1, report
    assert result.duplicates == 0, report
    assert result.mismatches == 0, report
    assert result.violations == [], report
    assert result.max_time_to_healthy <= config.healthy_bound_s, report
