"""Loading user strategies: what a strategies folder costs at start-up and per command.

A folder of 20 template strategies in a temporary directory: the first scan (import every
file, check each class's contract, including its signals on the probe bars), a second scan of
the unchanged folder (modules cached by path and content hash; the contract is checked again),
resolving one strategy by name, and `thunes list-strategies --json` over the folder (its first
call includes importing every command module).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from thunes.cli import main
from thunes.strategy_files import resolve, scan_folder
from thunes.strategy_files.template import write_template

FILES = 20


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "strategies"
        for k in range(FILES):
            write_template(f"bench_trend_{k:02d}", folder)
        cold = _timed(lambda: scan_folder(folder))
        warm = _timed(lambda: scan_folder(folder))
        by_name = _timed(lambda: resolve("bench_trend_07", folder))
        argv = ["list-strategies", "--json", "--dir", str(folder)]
        with contextlib.redirect_stdout(io.StringIO()):
            first = _timed(lambda: main(argv))
            listing = _timed(lambda: main(argv))
    return [
        (f"first scan of {FILES} strategy files (import + contract)", f"{cold:.0f} ms"),
        (f"second scan of {FILES} unchanged files (contract only)", f"{warm:.0f} ms"),
        ("resolve one strategy by name from that folder", f"{by_name:.0f} ms"),
        (f"thunes list-strategies --json over {FILES} files, first call", f"{first:.0f} ms"),
        ("  the same again (command modules already imported)", f"{listing:.0f} ms"),
    ]
