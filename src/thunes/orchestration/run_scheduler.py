"""The daemon entry point systemd runs: `python -m thunes.orchestration.run_scheduler`.

Start-up order: settings → single-instance lock on the state directory → database → exchange
preflight → reconciliation → stream → scheduler. SIGTERM/SIGINT stop gracefully and exit 0.
Exit codes: 0 stopped cleanly, 1 could not start (the reason is printed), 2 bad settings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from thunes.config import DEFAULT_ENV_FILE, Mode, Settings, SettingsError, load_settings
from thunes.log import setup_logging
from thunes.orchestration.lock import AlreadyRunning, StateLock

log = logging.getLogger(__name__)

EXIT_OK, EXIT_START_FAILED, EXIT_CONFIG = 0, 1, 2
TEST_MODE_DEFAULT_DURATION = 60.0


def _above_zero(text: str) -> float:
    """A duration or speed: a finite number above 0 (0 would stop at once or never tick)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env-file",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help=f"settings file; it must exist (default: {DEFAULT_ENV_FILE} when present)",
    )
    parser.add_argument("--mode", choices=[m.value for m in Mode], help="override THUNES_MODE")
    parser.add_argument("--speed", type=_above_zero, help="sim: simulated seconds per real second")
    parser.add_argument(
        "--duration", type=_above_zero, help="stop after this many real seconds (default: never)"
    )
    parser.add_argument(
        "--test-mode",
        action="store_true",
        help=f"limited run: refuses live mode, stops after --duration "
        f"(default {TEST_MODE_DEFAULT_DURATION:.0f} s)",
    )


def settings_for_run(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides: dict[str, Any] = {"mode": args.mode, "sim_speed": args.speed, **extra}
    settings = load_settings(
        getattr(args, "env_file", DEFAULT_ENV_FILE),
        require_env_file=hasattr(args, "env_file"),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    if args.test_mode and settings.mode is Mode.LIVE:
        raise SettingsError(["THUNES_MODE: --test-mode never runs against live keys"])
    return settings


def run_daemon(
    settings: Settings, duration: float | None, observer: Any = None, console: bool = True
) -> int:
    """Lock the state directory and run the daemon until stopped; returns the exit code.

    `observer` lets a front end (the demo) watch; `console` adds console logging.
    What `run` needs is validated first (`SettingsError`, exit 2): no file or port is touched.
    """
    from thunes.app.validate import refuse, run_problems

    refuse(asyncio.run(run_problems(settings)))
    setup_logging(settings.log_dir, settings.log_level, settings.secrets(), console=console)
    lock = StateLock(settings.state_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"thunes: {exc}", file=sys.stderr)
        return EXIT_START_FAILED
    try:
        from thunes.app import StartupError, run_app

        try:
            return asyncio.run(run_app(settings, duration_s=duration, observer=observer))
        except StartupError as exc:
            log.error("cannot start: %s", exc)  # on the console too when it logs there
            if not (console and log.isEnabledFor(logging.ERROR)):
                print(f"thunes: cannot start: {exc}", file=sys.stderr)
            return EXIT_START_FAILED
    finally:
        lock.release()


def run_from_args(args: argparse.Namespace, observer: Any = None) -> int:
    """The daemon as the flags ask (raises `SettingsError` for bad settings).

    `observer`: what `thunes run` prints in the foreground (systemd runs without one).
    """
    settings = settings_for_run(args)
    duration = args.duration
    if args.test_mode and duration is None:
        duration = TEST_MODE_DEFAULT_DURATION
    return run_daemon(settings, duration, observer=observer)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_scheduler", description="THUNES daemon")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except SettingsError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    raise SystemExit(main())
