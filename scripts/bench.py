#!/usr/bin/env python3
"""Benchmarks: `python scripts/bench.py [all|NAME ...]`.

Each module `scripts/benchmarks/<name>.py` defines `run() -> list[tuple[str, str]]` returning
(figure, value) rows; this script runs the chosen ones and prints one table per benchmark.
Modules starting with "_" (e.g. `_common`, the helpers they share) are not benchmarks.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent / "benchmarks"
sys.path.insert(0, str(HERE))  # the benchmarks import their shared helpers from `_common`


def available() -> dict[str, Path]:
    return {p.stem: p for p in sorted(HERE.glob("*.py")) if not p.stem.startswith("_")}


def run_one(name: str, path: Path, console: Console) -> None:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.run()
    table = Table(title=f"benchmark: {name}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for figure, value in rows:
        table.add_row(figure, value)
    console.print(table)


def main(argv: list[str]) -> int:
    benches = available()
    wanted = argv or ["all"]
    names = list(benches) if wanted == ["all"] else wanted
    unknown = [n for n in names if n not in benches]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(benches)}")
        return 2
    console = Console()
    for name in names:
        run_one(name, benches[name], console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
