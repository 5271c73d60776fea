"""`thunes download` and `thunes list-data`: historical klines into a folder, and what it holds.

`download` fetches from the exchange of the configured mode (testnet, live, or in `sim` a fresh
simulator over THUNES_SIM_DATA whose clock stands at the end of its data), one 12-column CSV per
symbol and interval, resumable, with the peak request weight and the gaps reported.
`list-data` lists any folder of kline files the loader reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.cli.parsing import unwritable_dir, usage_error
from thunes.intervals import INTERVAL_MS

if TYPE_CHECKING:
    from thunes.config import Settings
    from thunes.data_download import SymbolDownload
    from thunes.exchange.client import BinanceGateway
    from thunes.market.inventory import DataFile

EXIT_FAILED = 1
GAPS_SHOWN = 5
TEXT_COLUMNS = ("file", "symbol", "interval", "first", "last")
INTERVALS = tuple(INTERVAL_MS)


def _moment(text: str) -> datetime:
    """An ISO date or time, read as UTC when it names no zone."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or time: {text!r} (e.g. 2021-01-01 or 2021-01-01T12:00, UTC)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _symbols(text: str) -> list[str]:
    names = [part.strip().upper() for part in text.split(",") if part.strip()]
    for name in names:
        if not name.isascii() or not name.isalnum():
            raise argparse.ArgumentTypeError(f"not a symbol: {name!r}")
    if not names:
        raise argparse.ArgumentTypeError("no symbol given")
    return list(dict.fromkeys(names))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "download", help="download closed klines from the exchange into one CSV per symbol"
    )
    parser.add_argument(
        "--symbols", type=_symbols, required=True, metavar="SYM,...", help="e.g. BTCUSDT,ETHUSDT"
    )
    parser.add_argument("--interval", choices=INTERVALS, default="1h", help="bar interval")
    parser.add_argument(
        "--from", dest="start", type=_moment, required=True, metavar="ISO-TIME",
        help="first bar opens at or after this time (UTC)",
    )
    parser.add_argument(
        "--to", dest="end", type=_moment, metavar="ISO-TIME",
        help="last bar closes before this time (UTC; default: the exchange's now, "
        "in sim mode the end of the replayed data)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="target folder")
    add_env_file_option(parser)
    parser.set_defaults(handler=run_download)

    listing = subparsers.add_parser(
        "list-data", help="list the kline files of a folder: symbol, interval, range, rows, gaps"
    )
    listing.add_argument("folder", type=Path, metavar="DIR")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=run_list_data)


# ---- download ----------------------------------------------------------------------------------


def _argument_problem(args: argparse.Namespace) -> int | None:
    from thunes.data_download import DownloadRefused, check_target

    if args.end is not None and args.start >= args.end:
        return usage_error("--from", f"{args.start:%Y-%m-%d %H:%M} is not before --to")
    problem = unwritable_dir(args.out)
    if problem:
        return usage_error(f"--out {args.out}", problem)
    for symbol in args.symbols:
        try:
            check_target(args.out, symbol, args.interval)
        except DownloadRefused as refused:
            return usage_error("--out", str(refused))
    return None


def run_download(args: argparse.Namespace) -> int:
    problem = _argument_problem(args)
    if problem is not None:
        return problem
    settings = settings_from_args(args)
    from thunes.data_download import DownloadRefused
    from thunes.exchange.types import ExchangeError

    console = Console()
    try:
        outcome = asyncio.run(_download(settings, args))
    except DownloadRefused as refused:  # the folder changed since the check
        return usage_error("--out", str(refused))
    except ExchangeError as error:
        print(f"thunes: error: exchange: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as error:  # the sim's data, or --from after the exchange's now
        return usage_error("download", str(error))
    render_downloads(outcome, console)
    return EXIT_FAILED if outcome.failures else 0


class Outcome:
    """Every symbol's result, the failures, and the request weight the run used."""

    def __init__(self, interval: str, weight_budget: int, peak_weight: int) -> None:
        self.interval = interval
        self.results: list[SymbolDownload] = []
        self.failures: dict[str, str] = {}
        self.weight_budget = weight_budget
        self.peak_weight = peak_weight
        self.requests = 0
        self.to: datetime | None = None


async def _download(settings: Settings, args: argparse.Namespace) -> Outcome:
    from thunes.clock import SimClock, SystemClock
    from thunes.config import Mode
    from thunes.exchange.factory import build_gateway

    if settings.mode is not Mode.SIM:
        gateway = await build_gateway(settings, SystemClock())
        return await _download_with(gateway, args)
    from thunes.orchestration.sim_runtime import every_sim_file
    from thunes.sim import Simulator, SimulatorConfig

    data = every_sim_file(settings)  # a SimSetupError is a ValueError: one line, exit 2
    clock = SimClock(start=_data_end(data), speed=1.0)
    config = SimulatorConfig(data=data, clock=clock, stream_interval=3600.0)
    async with Simulator(config) as simulator:
        gateway = await build_gateway(settings, clock, api_url=simulator.api_url)
        return await _download_with(gateway, args)


async def _download_with(gateway: BinanceGateway, args: argparse.Namespace) -> Outcome:
    from thunes.data_download import download_symbol
    from thunes.exchange.types import ExchangeError

    limiter = gateway.limiter
    outcome = Outcome(args.interval, limiter.weight_budget, limiter.used_weight)

    def sample() -> None:
        outcome.requests += 1
        outcome.peak_weight = max(outcome.peak_weight, limiter.used_weight)

    try:
        await gateway.sync_time()
        now_ms = gateway.time_sync.now_ms()
        to_ms = now_ms if args.end is None else min(_ms(args.end), now_ms)
        if _ms(args.start) >= to_ms:
            raise ValueError(f"--from {args.start:%Y-%m-%d %H:%M} is not before the exchange's now")
        outcome.to = datetime.fromtimestamp(to_ms / 1000, UTC)
        for symbol in args.symbols:
            try:
                result = await download_symbol(
                    gateway, args.out, symbol, args.interval, _ms(args.start), to_ms,
                    after_request=sample,
                )
            except ExchangeError as error:
                outcome.failures[symbol] = str(error)
                continue
            outcome.results.append(result)
    finally:
        await gateway.close()
    return outcome


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _data_end(data: dict[str, Path]) -> float:
    """The simulator's clock for a download: when the last replayed bar has closed."""
    from thunes.sim.replay import load_replay

    return max(load_replay(s, p).last_close_ms for s, p in data.items()) / 1000


def render_downloads(outcome: Outcome, console: Console) -> None:
    until = f", bars closed before {outcome.to:%Y-%m-%d %H:%M} UTC" if outcome.to else ""
    table = _table(f"download {outcome.interval}{until}",
                   ("symbol", "first", "last", "rows", "new", "requests", "gaps"))
    for result in outcome.results:
        report = result.report
        if report is None:
            table.add_row(result.symbol, "—", "—", "0", "0", str(result.requests), "—")
            continue
        table.add_row(
            result.symbol, _stamp(report.first), _stamp(report.last),
            str(report.rows), str(result.fetched), str(result.requests),
            _gaps(report.gaps, report.missing_bars),
        )
    console.print(table)
    for result in outcome.results:
        _print_notes(result, console)
    for symbol, error in outcome.failures.items():
        console.print(f"[red]{symbol}: not downloaded: {error}[/red]", soft_wrap=True)
    console.print(
        f"{outcome.requests} requests; peak request weight {outcome.peak_weight} of "
        f"{outcome.weight_budget} per minute"
    )


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """Names and times wrap (file names anywhere, times at the space); figures never do."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for column in columns:
        text = column in TEXT_COLUMNS
        table.add_column(
            column, justify="left" if text else "right", no_wrap=not text,
            overflow="fold" if column == "file" else "ellipsis",
            min_width=10 if column in ("first", "last") else None,
        )
    return table


def _stamp(when: datetime | None) -> str:
    return "—" if when is None else f"{when:%Y-%m-%d %H:%M}"


def _gaps(gaps: int, missing: int) -> str:
    return f"{gaps} ({missing} bars)" if gaps else "0"


def _print_notes(result: SymbolDownload, console: Console) -> None:
    if result.torn_line_dropped:
        console.print(f"{result.symbol}: dropped a cut-short last line and fetched it again")
    if result.report is None:
        console.print(f"{result.symbol}: the exchange has no closed bars in that range")
        return
    starts = result.report.gap_starts
    if starts:
        shown = ", ".join(f"{t:%Y-%m-%d %H:%M}" for t in starts[:GAPS_SHOWN])
        more = f" and {len(starts) - GAPS_SHOWN} more" if len(starts) > GAPS_SHOWN else ""
        console.print(f"{result.symbol}: gaps start at {shown}{more}", soft_wrap=True)


# ---- list-data ---------------------------------------------------------------------------------


def run_list_data(args: argparse.Namespace) -> int:
    from thunes.market.inventory import inventory

    if not args.folder.is_dir():
        return usage_error(f"list-data {args.folder}", "not a directory")
    files = inventory(args.folder)
    if args.json:
        print(json.dumps([f.to_dict() for f in files], indent=2))
        return 0
    render_inventory(files, args.folder, Console())
    return 0


def render_inventory(files: list[DataFile], folder: Path, console: Console) -> None:
    if not files:
        console.print(f"no kline files in {folder}")
        return
    table = _table(f"kline files in {folder}",
                   ("file", "symbol", "interval", "first", "last", "rows", "gaps"))
    for item in files:
        symbol, interval = item.symbol or "?", item.interval or "?"
        if item.problem is not None:
            table.add_row(item.path.name, symbol, interval, "", "", "", "")
            continue
        first = _stamp(datetime.fromisoformat(item.first)) if item.first else "—"
        last = _stamp(datetime.fromisoformat(item.last)) if item.last else "—"
        table.add_row(item.path.name, symbol, interval, first, last, str(item.rows),
                      _gaps(item.gaps, item.missing_bars))
    console.print(table)
    for item in files:
        if item.problem is not None:
            console.print(f"[red]{item.path.name}: {item.problem}[/red]", soft_wrap=True)
