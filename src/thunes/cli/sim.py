"""`thunes sim`: run the Binance-compatible local exchange as its own process.

It accepts one API key and secret (printed at start, and in README) so any Binance client can
sign requests against it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from thunes.cli.parsing import port_number, positive_float, positive_int
from thunes.clock import SimClock
from thunes.market.klines import KlineFileError, symbol_from_filename
from thunes.sim import Simulator, SimulatorConfig, default_data, replay_clock
from thunes.sim.universe import DataDirError, folder_data
from thunes.sim.wallclock import wall_clock_config

EXIT_USAGE = 2
DEFAULT_SPEED = 60.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sim", help="run the local Binance-compatible exchange")
    parser.add_argument(
        "--port", type=port_number, default=8765, help="port to listen on (0: any free port)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--speed",
        type=positive_float,
        default=DEFAULT_SPEED,
        help="simulated seconds per real second",
    )
    parser.add_argument(
        "--data", type=Path, nargs="+", help="kline files to replay (default: bundled samples)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="a folder of kline files, one per symbol named in the file name (e.g. "
        "BTCUSDT_1h.csv), served together; each symbol is listed from its first bar",
    )
    parser.add_argument(
        "--start",
        help="simulated start, ISO UTC (default: 30 days after the latest first bar)",
    )
    parser.add_argument("--snapshot", type=Path, help="keep exchange state in this JSON file")
    parser.add_argument(
        "--balance",
        action="append",
        default=[],
        metavar="ASSET=AMOUNT",
        help="starting balance (repeatable; default USDT=10000)",
    )
    parser.add_argument(
        "--weight-limit", type=positive_int, default=6000, help="request weight per minute"
    )
    parser.add_argument(
        "--fee-rate", type=_fee_rate, default=Decimal("0.001"), help="fee rate per fill"
    )
    parser.add_argument(
        "--clock",
        choices=("replay", "wall"),
        default="replay",
        help="replay: simulated time in the data's past (default); wall: exchange time is now, "
        "the data shifted to it, at real speed",
    )
    parser.set_defaults(handler=run)


def _fee_rate(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to below 1, got {text}")
    return value


def _data(args: argparse.Namespace, problems: list[str]) -> dict[str, Path]:
    """Symbol → file from --data-dir and --data (default: the bundled samples)."""
    if not (args.data or args.data_dir):
        return default_data()
    data: dict[str, Path] = {}
    if args.data_dir:
        try:
            data = folder_data(args.data_dir)
        except DataDirError as error:
            problems.append(f"--data-dir {error}")
    for path in args.data or []:
        symbol = symbol_from_filename(path)
        if not path.exists():
            problems.append(f"--data {path}: no such file")
        elif symbol is None:
            problems.append(f"--data {path}: cannot tell the symbol from the file name")
        elif symbol in data:
            problems.append(f"--data {path}: {symbol} is already replayed from {data[symbol]}")
        else:
            data[symbol] = path
    return data


def _problems_and_config(args: argparse.Namespace) -> tuple[list[str], SimulatorConfig | None]:
    problems: list[str] = []
    data = _data(args, problems)
    balances: dict[str, Decimal] = {}
    for item in args.balance:
        asset, _, amount = item.partition("=")
        try:
            balances[asset.upper()] = Decimal(amount)
        except InvalidOperation:
            problems.append(f"--balance {item}: expected ASSET=AMOUNT")
    if args.clock == "wall":
        problems += [f"{flag} cannot be used with --clock wall" for flag in _wall_conflicts(args)]
    if problems:
        return problems, None
    try:
        clock = replay_clock(data, speed=args.speed)
        if args.start:
            start = datetime.fromisoformat(args.start)
            if start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
            clock = SimClock(start=start.timestamp(), speed=args.speed)
    except (KlineFileError, ValueError) as error:
        return [str(error)], None
    config = SimulatorConfig(
        data=data,
        clock=clock,
        snapshot_path=args.snapshot,
        weight_limit=args.weight_limit,
        fee_rate=args.fee_rate,
    )
    if balances:
        config = dataclasses.replace(config, balances=balances)
    if args.clock == "wall":
        config = wall_clock_config(config)
    return [], config


def _wall_conflicts(args: argparse.Namespace) -> list[str]:
    """Options that set the replay's time, which the wall clock fixes to now at real speed."""
    conflicts = ["--start"] if args.start else []
    return conflicts + (["--speed"] if args.speed != DEFAULT_SPEED else [])


async def _serve(config: SimulatorConfig, host: str, port: int) -> str | None:
    """Serve until SIGINT/SIGTERM; a port that cannot be bound is returned as the problem."""
    sim = Simulator(config)
    try:
        await sim.start(host=host, port=port)
    except OSError as error:
        return f"--port {port}: cannot listen on {host}:{port}: {error.strerror or error}"
    print(f"THUNES sim on {sim.base_url} (API_URL {sim.api_url}, streams {sim.ws_url})", flush=True)
    print(f"API key {config.api_key!r}, secret {config.api_secret!r}", flush=True)
    print(f"replaying {len(config.data)} symbols: {', '.join(config.data)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()
    return None


def run(args: argparse.Namespace) -> int:
    problems, config = _problems_and_config(args)
    if config is None:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    problem = asyncio.run(_serve(config, args.host, args.port))
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    return 0
