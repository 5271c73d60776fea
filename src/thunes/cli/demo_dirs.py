"""The demo's own state and log directories: it wipes only what it made.

Every demo starts from the same exchange, so it empties its directories first. It only ever
empties a directory carrying its marker file (written when it created the directory); a
`demo` directory it did not make is left alone and the next free name (`demo-2`, ...) is used.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MARKER = ".thunes-demo"
MARKER_TEXT = "made by `thunes demo`: emptied at the start of every demo\n"
NAME = "demo"
MAX_TRIES = 100


class DemoDirsError(RuntimeError):
    """No usable directory for the demo (every candidate is someone else's)."""


def is_ours(directory: Path) -> bool:
    """True for a real directory holding the demo's marker."""
    return directory.is_dir() and not directory.is_symlink() and (directory / MARKER).is_file()


def _usable(directory: Path) -> bool:
    return not (directory.exists() or directory.is_symlink()) or is_ours(directory)


def _fresh(directory: Path) -> None:
    if is_ours(directory):
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text(MARKER_TEXT)


def claim(state_root: Path, log_root: Path) -> tuple[Path, Path]:
    """Empty, marked demo directories under the given roots: `demo`, else `demo-2`, ..."""
    for number in range(1, MAX_TRIES + 1):
        name = NAME if number == 1 else f"{NAME}-{number}"
        state, logs = Path(state_root) / name, Path(log_root) / name
        if _usable(state) and _usable(logs):
            for directory in dict.fromkeys((state, logs)):
                _fresh(directory)
            return state, logs
    raise DemoDirsError(
        f"no free demo directory under {state_root} and {log_root} "
        f"({NAME} to {NAME}-{MAX_TRIES} are all in use by something else)"
    )
