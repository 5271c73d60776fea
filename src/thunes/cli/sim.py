"""`thunes sim`: run the Binance-compatible local exchange as its own process."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from thunes.clock import SimClock
from thunes.market.klines import KlineFileError, symbol_from_filename
from thunes.sim import Simulator, SimulatorConfig, default_data, replay_clock

EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sim", help="run the local Binance-compatible exchange")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)"
    )
    parser.add_argument(
        "--data", type=Path, nargs="+", help="kline files to replay (default: bundled samples)"
    )
    parser.add_argument("--start", help="simulated start, ISO UTC (default: 30 days into the data)")
    parser.add_argument("--snapshot", type=Path, help="keep exchange state in this JSON file")
    parser.add_argument(
        "--balance",
        action="append",
        default=[],
        metavar="ASSET=AMOUNT",
        help="starting balance (repeatable; default USDT=10000)",
    )
    parser.add_argument(
        "--weight-limit", type=int, default=6000, help="request weight per minute (default 6000)"
    )
    parser.add_argument("--fee-rate", type=Decimal, default=Decimal("0.001"), help="default 0.001")
    parser.set_defaults(handler=run)


def _problems_and_config(args: argparse.Namespace) -> tuple[list[str], SimulatorConfig | None]:
    problems: list[str] = []
    data = default_data()
    if args.data:
        data = {}
        for path in args.data:
            symbol = symbol_from_filename(path)
            if not path.exists():
                problems.append(f"--data {path}: no such file")
            elif symbol is None:
                problems.append(f"--data {path}: cannot tell the symbol from the file name")
            else:
                data[symbol] = path
    balances: dict[str, Decimal] = {}
    for item in args.balance:
        asset, _, amount = item.partition("=")
        try:
            balances[asset.upper()] = Decimal(amount)
        except InvalidOperation:
            problems.append(f"--balance {item}: expected ASSET=AMOUNT")
    if args.speed <= 0:
        problems.append("--speed must be positive")
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
    return [], config


async def _serve(config: SimulatorConfig, host: str, port: int) -> None:
    sim = Simulator(config)
    await sim.start(host=host, port=port)
    print(f"THUNES sim on {sim.base_url} (API_URL {sim.api_url}, streams {sim.ws_url})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def run(args: argparse.Namespace) -> int:
    problems, config = _problems_and_config(args)
    if config is None:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    asyncio.run(_serve(config, args.host, args.port))
    return 0
