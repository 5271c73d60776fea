"""Strategies an operator writes: loading them by name, file or module, and checking them.

This is the I/O side of strategies (it imports files); `thunes.strategy` stays pure.
"""

from thunes.strategy_files.imports import StrategyLoadError
from thunes.strategy_files.loader import (
    FolderScan,
    LoadedStrategy,
    load_strategy,
    resolve,
    scan_folder,
    strategy_key,
)

__all__ = [
    "FolderScan",
    "LoadedStrategy",
    "StrategyLoadError",
    "load_strategy",
    "resolve",
    "scan_folder",
    "strategy_key",
]
