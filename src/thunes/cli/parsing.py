"""The `thunes` argument parser: one-line errors, defaults in the help, value types that refuse.

A mistyped argument is a user error: one line on stderr and exit code 2, never the usage block
or a traceback. Values a command cannot use (a port beyond 65535, a duration of 0, a speed of 0)
are refused here, where the argument is read, instead of failing later or being ignored.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import NoReturn

EXIT_USAGE = 2
MAX_PORT = 65535


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help unless the help already says its default.

    Unlike argparse's ArgumentDefaultsHelpFormatter it leaves out defaults that say nothing
    (None, False, an empty list), so no option reads "(default: None)".
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if not action.option_strings or "default" in text.lower():
            return text
        if not shows_default(action):
            return text
        return f"{text} (default: %(default)s)"


def shows_default(action: argparse.Action) -> bool:
    """Whether an option's default is worth printing."""
    default = action.default
    if default is None or default is False or default == argparse.SUPPRESS:
        return False
    return not (isinstance(default, list | tuple) and not default)


class ThunesParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and whose help shows defaults.

    `add_subparsers` builds subcommand parsers of the same class, so every subcommand (and
    nested ones such as `audit verify`) behaves alike.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        first = message.splitlines()[0] if message else "bad arguments"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {first} (see {self.prog} --help)\n")


def positive_float(text: str) -> float:
    """A finite number above zero (durations, speeds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """A whole number above zero (trials, folds, counts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def port_number(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_PORT}, got {text}")
    return value


def unwritable_dir(directory: Path) -> str | None:
    """Why files cannot be written into `directory` (created if missing), or None.

    Creates nothing: a run that is refused for another reason leaves no empty folder behind.
    """
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def usage_error(option: str, message: str) -> int:
    """One line on stderr for a bad argument found by a handler; the exit code to return."""
    print(f"thunes: error: {option}: {message}", file=sys.stderr)
    return EXIT_USAGE
