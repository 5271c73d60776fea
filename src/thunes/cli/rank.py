"""`thunes rank`: rank the market universe once and print the leaders.

Two sources. From the exchange of the configured mode (testnet, live, or in `sim` a fresh
simulator replaying THUNES_SIM_DATA from THUNES_SIM_START or `--at`, as `thunes doctor` starts
one): exchangeInfo, then the closed klines of every universe symbol, with the peak request
weight shown. Or offline from `--data DIR`, a folder of kline files (one symbol per file name),
as of `--at` (default: the close of the newest bar in the folder). Either way the same pure
`rank_universe` ranks what closed before the as-of time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.cli.parsing import positive_int, unwritable_dir, usage_error
from thunes.intervals import TRADING_INTERVALS
from thunes.ranking.export import ranking_to_dict
from thunes.ranking.types import Ranking
from thunes.ranking.universe import DEFAULT_MIN_QUOTE_VOLUME, DEFAULT_QUOTE_ASSET

if TYPE_CHECKING:
    from thunes.config import Settings
    from thunes.exchange.client import BinanceGateway
    from thunes.ranking.fetch import FetchedUniverse

EXIT_FAILED = 1
SKIPPED_SHOWN = 20


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _moment(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO time: {text!r} (e.g. 2021-05-01T00:00 in UTC)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _asset(text: str) -> str:
    """An asset or symbol name: letters and digits (Binance's own names are upper-case)."""
    name = text.strip().upper()
    if not name.isascii() or not name.isalnum():
        raise argparse.ArgumentTypeError(f"not an asset or symbol name: {text!r}")
    return name


def _symbols(text: str) -> list[str]:
    return [_asset(part) for part in text.split(",") if part.strip()]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("rank", help="rank the market universe by trend and liquidity")
    parser.add_argument(
        "--timeframe", choices=TRADING_INTERVALS, default="1h", help="bar interval to rank on"
    )
    parser.add_argument("--top", type=positive_int, default=20, metavar="N", help="rows to print")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the whole ranking")
    parser.add_argument(
        "--data", type=Path, metavar="DIR", help="rank a folder of kline files, not the exchange"
    )
    parser.add_argument(
        "--at",
        type=_moment,
        metavar="ISO-TIME",
        help="as-of time in UTC (default: the newest bar's close with --data; "
        "in sim mode where the replay starts)",
    )
    parser.add_argument(
        "--min-quote-volume",
        type=_amount,
        metavar="AMOUNT",
        help="24 h quote volume a symbol needs, in the quote asset "
        f"(default: THUNES_RANK_MIN_QUOTE_VOLUME, {DEFAULT_MIN_QUOTE_VOLUME:,})",
    )
    parser.add_argument(
        "--quote-asset",
        type=_asset,
        metavar="ASSET",
        help=f"rank the pairs quoted in this asset (default: THUNES_RANK_QUOTE_ASSET, "
        f"{DEFAULT_QUOTE_ASSET})",
    )
    parser.add_argument(
        "--deny",
        type=_symbols,
        metavar="SYM,...",
        help="symbols never ranked (default: THUNES_RANK_DENY)",
    )
    add_env_file_option(parser)
    parser.set_defaults(handler=run)


def _argument_problem(args: argparse.Namespace) -> int | None:
    if args.data is not None and not args.data.is_dir():
        return usage_error(f"--data {args.data}", "not a directory")
    if args.json is not None:
        problem = unwritable_dir(args.json.parent)
        if problem:
            return usage_error(f"--json {args.json}", problem)
    return None


def run(args: argparse.Namespace) -> int:
    problem = _argument_problem(args)
    if problem is not None:
        return problem
    settings = settings_from_args(args)
    _apply_settings(args, settings)
    console = Console()
    outcome = _from_folder(args) if args.data is not None else _from_exchange(settings, args)
    if isinstance(outcome, int):
        return outcome
    ranking, source, fetched = outcome
    render(ranking, console, args.top, source)
    if fetched is not None:
        console.print(
            f"fetched {len(fetched.frames)} symbols in {fetched.requests} requests; peak request "
            f"weight {fetched.peak_weight} of {fetched.weight_budget} per minute"
        )
    if args.json is not None:
        _write_json(args, ranking, source, fetched)
        console.print(f"ranking written to {args.json}")
    return 0


def _apply_settings(args: argparse.Namespace, settings: Settings) -> None:
    """Options not given take the THUNES_RANK_* settings."""
    if args.min_quote_volume is None:
        args.min_quote_volume = settings.rank_min_quote_volume
    if args.quote_asset is None:
        args.quote_asset = settings.rank_quote_asset
    if args.deny is None:
        args.deny = list(settings.rank_deny)


Outcome = tuple[Ranking, str, "FetchedUniverse | None"] | int


def _from_folder(args: argparse.Namespace) -> Outcome:
    from thunes.ranking.files import load_folder
    from thunes.ranking.rank import rank_universe

    folder = load_folder(args.data, args.timeframe, quote_asset=args.quote_asset, deny=args.deny)
    as_of = args.at or folder.newest_close
    if as_of is None:
        return usage_error(f"--data {args.data}", "no kline file with a symbol in its name")
    ranking = rank_universe(
        folder.frames,
        timeframe=args.timeframe,
        as_of=as_of,
        min_quote_volume=args.min_quote_volume,
        skipped=folder.skipped,
    )
    return ranking, f"data {args.data}", None


def _from_exchange(settings: Settings, args: argparse.Namespace) -> Outcome:
    from thunes.config import Mode
    from thunes.exchange.types import ExchangeError

    if args.at is not None and settings.mode is not Mode.SIM:
        return usage_error("--at", f"needs --data (or sim mode); {settings.mode.value} ranks now")
    try:
        ranking, fetched = asyncio.run(_exchange_ranking(settings, args))
    except ExchangeError as error:
        print(f"thunes: error: exchange: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as error:  # the sim's data or start time
        return usage_error("sim", str(error))
    return ranking, f"exchange ({settings.mode.value})", fetched


async def _exchange_ranking(
    settings: Settings, args: argparse.Namespace
) -> tuple[Ranking, FetchedUniverse]:
    from thunes.clock import SimClock, SystemClock
    from thunes.config import Mode
    from thunes.exchange.factory import build_gateway

    if settings.mode is not Mode.SIM:
        gateway = await build_gateway(settings, SystemClock())
        return await _rank_with(gateway, args)
    from thunes.orchestration.sim_runtime import every_sim_file
    from thunes.sim import Simulator, SimulatorConfig

    data = every_sim_file(settings)  # a SimSetupError is a ValueError: one line, exit 2
    clock = SimClock(start=_sim_start(settings, args, data), speed=1.0)
    config = SimulatorConfig(data=data, clock=clock, stream_interval=3600.0)
    async with Simulator(config) as simulator:
        gateway = await build_gateway(settings, clock, api_url=simulator.api_url)
        return await _rank_with(gateway, args)


async def _rank_with(
    gateway: BinanceGateway, args: argparse.Namespace
) -> tuple[Ranking, FetchedUniverse]:
    from thunes.ranking.fetch import rank_from_exchange

    try:
        await gateway.sync_time()
        return await rank_from_exchange(
            gateway,
            timeframe=args.timeframe,
            quote_asset=args.quote_asset,
            deny=args.deny,
            min_quote_volume=args.min_quote_volume,
        )
    finally:
        await gateway.close()


def _sim_start(settings: Settings, args: argparse.Namespace, data: dict[str, Path]) -> float:
    from thunes.sim import replay_clock

    if args.at is not None:
        return float(args.at.timestamp())
    if settings.sim_start:
        return _moment(settings.sim_start).timestamp()
    return replay_clock(data).time()


def render(ranking: Ranking, console: Console, top: int, source: str) -> None:
    when = ranking.as_of.strftime("%Y-%m-%d %H:%M UTC")
    table = Table(title=f"ranking {ranking.timeframe} as of {when} — {source}")
    for column, justify in (
        ("rank", "right"),
        ("symbol", "left"),
        ("score", "right"),
        ("confidence", "right"),
        ("24h quote volume", "right"),
        ("reasons", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in ranking.ranked[:top]:
        table.add_row(
            str(row.rank),
            row.symbol,
            f"{row.bullish_score:.4f}",
            f"{row.confidence}%",
            f"{row.quote_volume_24h:,.0f}",
            ", ".join(row.reasons),
        )
    console.print(table)
    skipped = ranking.skipped
    console.print(f"ranked {len(ranking.ranked)}, skipped {len(skipped)}")
    for failure in skipped[:SKIPPED_SHOWN]:
        console.print(f"  [dim]{failure.symbol}: {failure.reason}[/dim]", soft_wrap=True)
    if len(skipped) > SKIPPED_SHOWN:
        console.print(f"  [dim]… and {len(skipped) - SKIPPED_SHOWN} more (see --json)[/dim]")


def _write_json(
    args: argparse.Namespace, ranking: Ranking, source: str, fetched: FetchedUniverse | None
) -> None:
    document = ranking_to_dict(ranking)
    document.update(
        source=source,
        min_quote_volume=str(args.min_quote_volume),
        quote_asset=args.quote_asset,
        deny=list(args.deny),
    )
    if fetched is not None:
        document["fetch"] = {
            "considered": fetched.considered,
            "requests": fetched.requests,
            "peak_weight": fetched.peak_weight,
            "weight_budget": fetched.weight_budget,
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
