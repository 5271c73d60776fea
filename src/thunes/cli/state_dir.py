"""Finding the daemon's state from a command: never invent it.

`THUNES_STATE_DIR` defaults to the relative `state`, so a command run from the wrong directory
(or without the systemd install's `--env-file`) would look at an empty place. Commands that act
on or read the daemon's state open only a database that is already there; otherwise they say
where they looked and exit 2, creating nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from thunes.config import Settings
from thunes.store import Store, StoreError, db_path

EXIT_NO_STATE = 2
EXIT_UNREADABLE = 1


def no_state_message(settings: Settings) -> str | None:
    """Why there is no THUNES state to act on, or None when the database is there."""
    path = db_path(settings.state_dir)
    if path.is_file():
        return None
    configured = Path(settings.state_dir)
    relative = "" if configured.is_absolute() else f" (THUNES_STATE_DIR={configured} is relative)"
    return (
        f"no THUNES state in {configured.absolute()}{relative}: run this with the daemon's "
        "settings (systemd install: --env-file /etc/thunes/thunes.env)"
    )


def open_state(settings: Settings) -> tuple[Store | None, int]:
    """The daemon's existing database, or (None, exit code) after one line on stderr."""
    problem = no_state_message(settings)
    if problem is not None:
        print(f"thunes: {problem}", file=sys.stderr)
        return None, EXIT_NO_STATE
    try:
        return Store.open(db_path(settings.state_dir)), 0
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return None, EXIT_UNREADABLE
