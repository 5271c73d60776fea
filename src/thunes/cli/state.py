"""`thunes kill | resume | pause | unpause` and `thunes audit verify`.

The switches are written to the state database, which the running daemon re-reads at every
check, so a command from another shell takes effect at the daemon's next check. Each change is
recorded in the audit trail, on the daemon's clock (simulated time in sim mode). A command never
creates a database: where there is no THUNES state it says where it looked and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thunes.cli.common import EXIT_FAILED, add_env_file_option, settings_from_args
from thunes.cli.daemon_clock import daemon_clock
from thunes.cli.state_dir import open_state
from thunes.store import AuditTrail, audit_path, verify_audit
from thunes.strategy.rules import TradingRules
from thunes.trading.risk import RiskLimits, RiskManager

DEFAULT_KILL_REASON = "manual kill from the command line"


def register(subparsers: Any) -> None:
    kill = subparsers.add_parser("kill", help="turn the kill-switch on: no new entries")
    kill.add_argument("--reason", default=DEFAULT_KILL_REASON, help="why (kept in the audit)")
    add_env_file_option(kill)
    kill.set_defaults(handler=run_kill)
    for name, handler, text in (
        ("resume", run_resume, "turn the kill-switch off"),
        ("pause", run_pause, "pause new entries (exits continue)"),
        ("unpause", run_unpause, "allow new entries again after pause"),
    ):
        parser = subparsers.add_parser(name, help=text)
        add_env_file_option(parser)
        parser.set_defaults(handler=handler)
    audit = subparsers.add_parser("audit", help="audit trail tools")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser("verify", help="check the hash chain of the audit trail")
    verify.add_argument("--path", type=Path, default=None, help="trail file (default: log dir)")
    add_env_file_option(verify)
    verify.set_defaults(handler=run_audit_verify)


def _with_risk(args: argparse.Namespace, action: Callable[[RiskManager], str]) -> int:
    """Apply `action` to the daemon's existing state; refuse (exit 2) where there is none."""
    settings = settings_from_args(args)
    store, code = open_state(settings)
    if store is None:
        return code
    try:
        clock = daemon_clock(settings, store)
        audit = AuditTrail(audit_path(settings.log_dir), clock, settings.secrets())
        limits = RiskLimits.from_rules(TradingRules.from_settings(settings))
        risk = RiskManager(limits, store, clock, audit=audit)
        print(action(risk))
    finally:
        store.close()
    return 0


def run_kill(args: argparse.Namespace) -> int:
    def kill(risk: RiskManager) -> str:
        if risk.kill(args.reason):
            return f"kill-switch ON ({args.reason}): no new entries from the next check"
        return "kill-switch was already on"

    return _with_risk(args, kill)


def run_resume(args: argparse.Namespace) -> int:
    def resume(risk: RiskManager) -> str:
        if risk.resume():
            return "kill-switch OFF: entries allowed again from the next check"
        return "kill-switch was already off"

    return _with_risk(args, resume)


def run_pause(args: argparse.Namespace) -> int:
    def pause(risk: RiskManager) -> str:
        return "entries paused" if risk.pause() else "entries were already paused"

    return _with_risk(args, pause)


def run_unpause(args: argparse.Namespace) -> int:
    def unpause(risk: RiskManager) -> str:
        return "entries unpaused" if risk.unpause() else "entries were not paused"

    return _with_risk(args, unpause)


def run_audit_verify(args: argparse.Namespace) -> int:
    path = args.path if args.path is not None else audit_path(settings_from_args(args).log_dir)
    result = verify_audit(path)
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else EXIT_FAILED
