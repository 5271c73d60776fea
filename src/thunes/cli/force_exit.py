"""`thunes force-exit SYMBOL|all`: ask the running daemon to sell a position at its next check.

The request is written to the state database (the daemon re-reads it at every check) and
audited; the sell goes through the daemon's order path like any exit, under the kill-switch too.
"""

from __future__ import annotations

import argparse
from typing import Any

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.cli.daemon_clock import daemon_clock
from thunes.cli.state_dir import open_state
from thunes.store import AuditTrail, audit_path
from thunes.trading.force_exit import request_force_exit


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "force-exit", help="sell a held position at the daemon's next check (or all of them)"
    )
    parser.add_argument("target", metavar="SYMBOL|all",
                        help="the symbol whose position to sell, or 'all'")
    add_env_file_option(parser)
    parser.set_defaults(handler=run_force_exit)


def run_force_exit(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    store, code = open_state(settings)
    if store is None:
        return code
    try:
        clock = daemon_clock(settings, store)
        chosen = request_force_exit(store, [args.target], clock.now())
        if not chosen:
            print(f"no open position for {args.target}: nothing to sell")
            return 0
        audit = AuditTrail(audit_path(settings.log_dir), clock, settings.secrets())
        audit.record("force_exit_requested", "", symbols=chosen, source="cli")
        print(f"force-exit requested for {', '.join(chosen)}: sold at the daemon's next check")
    finally:
        store.close()
    return 0
