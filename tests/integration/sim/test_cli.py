"""`thunes sim` serves the exchange from its own process and refuses bad arguments."""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import urllib.request
from decimal import Decimal

import pytest

from thunes.cli import sim as sim_command


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="thunes")
    sim_command.register(parser.add_subparsers())
    return parser.parse_args(argv)


@pytest.mark.slow
def test_thunes_sim_serves_until_terminated() -> None:
    command = [sys.executable, "-m", "thunes", "sim", "--port", "0", "--speed", "600"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        with urllib.request.urlopen(f"{found.group(0)}/api/v3/time", timeout=5) as response:
            first = json.loads(response.read())["serverTime"]
        with urllib.request.urlopen(f"{found.group(0)}/api/v3/ticker/price", timeout=5) as response:
            assert {p["symbol"] for p in json.loads(response.read())} == {"BTCUSDT", "ETHUSDT"}
        # 30 days into the bundled data (2023-01-01 + 30 days, plus a little replay)
        assert 1_675_123_200_000 <= first < 1_675_123_200_000 + 3_600_000
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=10) == 0


def test_bad_arguments_exit_2_with_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["sim", "--data", "/no/such/BTCUSDT-5m.csv", "--balance", "BTC"])
    assert args.handler(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "--data /no/such/BTCUSDT-5m.csv: no such file",
        "--balance BTC: expected ASSET=AMOUNT",
    ]


def test_start_is_read_as_utc() -> None:
    problems, config = sim_command._problems_and_config(
        parse(["sim", "--start", "2023-02-01T00:00", "--speed", "1", "--balance", "BTC=0.5"])
    )
    assert problems == [] and config is not None and config.clock is not None
    assert abs(config.clock.time() - 1_675_209_600) < 5
    assert config.balances == {"BTC": Decimal("0.5")}
