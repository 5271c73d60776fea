"""A cache of loaded, validated kline inputs, keyed by what they were built from.

Parsing and validating CSV archives is the slow part of an optimisation's build stage. The key
is a SHA-256 over each symbol's name and the bytes of its files, and the window asked for, so
the same files and window find the same build, and any change to a file misses. A hit carries
the hash of the bars it holds; the caller recomputes it and uses the build only when it
matches (a damaged entry is rebuilt, never trusted).

Entries are pickles under `<state_dir>/optimize_cache/`, written by THUNES itself (atomic
rename); only the newest `KEEP` are kept.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_DIRNAME = "optimize_cache"
KEEP = 8
FORMAT = b"thunes-dataset-cache-1"
CHUNK = 1 << 20


@dataclass(frozen=True)
class CachedBuild:
    inputs: list[Any]  # the loaded `SymbolInput`s, frames and loader reports included
    data_sha256: str  # the hash of the bars, to be checked against the frames on use


def input_key(files: Sequence[tuple[str, Sequence[Path]]], window: tuple[str, str]) -> str:
    """SHA-256 of the symbols, the bytes of their files (in name order) and the window."""
    digest = hashlib.sha256(FORMAT)
    for symbol, paths in files:
        digest.update(b"\0symbol\0" + symbol.encode())
        for path in sorted(paths, key=str):
            digest.update(b"\0file\0")
            with Path(path).open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
    digest.update(("\0window\0" + "\0".join(window)).encode())
    return digest.hexdigest()


class DatasetCache:
    """Builds by key in one directory of the state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / CACHE_DIRNAME

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.pickle"

    def get(self, key: str) -> CachedBuild | None:
        """The build stored under `key`, None when absent or unreadable."""
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                build = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        if not isinstance(build, CachedBuild):
            return None
        os.utime(path)  # recently used: kept by the pruning
        return build

    def put(self, key: str, build: CachedBuild) -> None:
        """Store atomically, then keep only the newest `KEEP` entries."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".build.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(build, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prune()

    def _prune(self) -> None:
        entries = sorted(self.root.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
