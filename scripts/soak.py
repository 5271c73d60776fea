#!/usr/bin/env python3
"""Randomized SIGKILL soak of the real daemon in sim mode: `python scripts/soak.py --kills 100`.

The daemon (`python -m thunes.orchestration.run_scheduler --mode sim --speed S`) runs on its own
temporary state and log directories, with a fast SMA published as its strategy parameters so the
order path runs every few seconds. It is SIGKILLed again and again:

* at random moments after it became healthy, or during its start-up (reconciliation included);
* at moments aimed at the order path, found by polling its files (no sleeps for sync):
  right after an `order_sent` audit line (the order is being sent), while the store holds an
  order in flight (NEW_INTENT/SENT/UNKNOWN/ACKED), right after an `order_outcome` or `fill`
  audit line (between the exchange's answer, the fill, the position and the alert).

The exchange is the simulator embedded in the daemon. It outlives every kill through its
snapshot (`state/sim_exchange.json`), written synchronously on every account change *before*
the order's answer leaves it, and restored by the next start, which resumes the replay where it
stopped. So an order the exchange accepted is never forgotten, even when the daemon died before
reading the answer: the restart must find it.

After every kill (the daemon is dead, its files are frozen) the soak checks:

* every client order id is on the exchange at most once;
* every exchange order has a row in the store (the intent is committed before the send);
* no decision has two orders on the exchange (decision = symbol + bar + action from the audit
  trail, and = check correlation id + symbol);
* every order the store calls final equals the exchange's (state, executed quantity); an order
  the store calls "never reached" is not on the exchange; an order in flight at a kill is
  final and equal once two restarts reached healthy and 30 s have passed;
* positions equal balances net of tracked dust (the store's `dust:<SYMBOL>` entries, else what
  `thunes status --json` reports as dust), whenever a restart (with its reconciliation)
  and no trade of that symbol lies between two kills that see the same difference;
* every fill in the store has its audit entry once a restart reached healthy (written with the
  fill, or re-derived at restart);
* the audit trail verifies (`verify_audit`, what `thunes audit verify` runs; the CLI itself
  runs every 10 kills and at the end);
* `/health` answers 200 again within `--healthy-bound` seconds of each restart.

Then SIGTERM while an order is in flight (`--sigterms`, default 12) must exit 0 in time, and a
last graceful stop on a settled state must show store = exchange and positions = balances net of
tracked dust exactly. The run prints its counts and exits 1 on any violation.

The test suite runs a short version through `run_soak(SoakConfig(kills=5, ...))`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from thunes.store.audit_verify import verify_audit

QUOTE = "USDT"
FINAL = {"FILLED", "CANCELED", "REJECTED", "EXPIRED"}
IN_FLIGHT = {"NEW_INTENT", "SENT", "UNKNOWN", "ACKED", "PARTIALLY_FILLED"}
SENDING = frozenset({"NEW_INTENT", "SENT", "UNKNOWN"})  # the request may be on the wire
NEVER_REACHED = {"REJECTED", "EXPIRED"}  # a final state an order may have without an exchange copy
STORE_TO_EXCHANGE = {"ACKED": "NEW"}
AIMS = ("order_sent", "store_in_flight", "order_outcome", "fill")
KINDS = (*AIMS, "random", "startup")
AUDIT_FILE = "audit_trail.jsonl"
SNAPSHOT_FILE = "sim_exchange.json"
DB_FILE = "thunes.db"
DUST_PREFIX = "dust:"  # the store's key-value entry of a symbol's tracked dust: "quantity|cost"
POLL_S = 0.002  # how often aimed kills look at the files
STOP_BOUND_S = 20.0
UNRESOLVED_AFTER_S = 30.0  # an order still in flight this long after a kill is stuck
SETTLE_BOUND_S = 45.0  # the final run waits at most this for no order in flight

# A fast crossover so that entries and exits come every few bars (published like `thunes
# optimize` would; the daemon loads it at start).
FAST_PARAMS = {"fast": 2, "slow": 5, "stop_loss_pct": 0.0}


@dataclass
class SoakConfig:
    kills: int = 100
    sigterms: int = 12
    seed: int | None = None
    speed: float = 1000.0
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    timeframe: str = "5m"
    check_interval_minutes: float = 5.0
    sim_start: str = "2023-02-01T18:30:00"
    aimed_share: float = 0.5  # of the kills, aimed at the order path
    startup_share: float = 0.1  # of the kills, during start-up (before /health is 200)
    max_random_delay_s: float = 6.0  # random kills: uniform in [0, this] after healthy
    aim_timeout_s: float = 20.0  # an aimed kill falls back to a random one after this
    healthy_bound_s: float = 10.0  # /health must be 200 within this after a restart
    cli_verify_every: int = 10
    kinds: tuple[str, ...] = ()  # a fixed schedule of kill kinds (cycled) instead of random
    settle_checks: int = 3  # the final run lets this many checks pass before its stop
    workdir: Path | None = None  # default: a temporary directory, removed at the end
    python: str = sys.executable
    log: Callable[[str], None] = print


@dataclass
class Violation:
    kind: str
    at: str  # "kill 17 (aimed order_sent)", "final", ...
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.at}: {self.detail}"


@dataclass
class SoakResult:
    kills: int = 0
    aimed_kills: Counter[str] = field(default_factory=Counter)
    random_kills: int = 0
    startup_kills: int = 0
    aimed_fallbacks: int = 0
    restarts: int = 0
    orders: int = 0
    fills: int = 0
    duplicates: int = 0
    mismatches: int = 0
    in_flight_at_kill: int = 0
    transient_position_diffs: int = 0
    position_mismatches_seen: int = 0
    healthy_times: list[float] = field(default_factory=list)
    sigterm_codes: list[int | None] = field(default_factory=list)
    sigterm_in_flight: int = 0
    sigterm_left_in_flight: int = 0
    cli_verifies: int = 0
    violations: list[Violation] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def max_time_to_healthy(self) -> float:
        return max(self.healthy_times, default=0.0)

    def summary(self) -> list[tuple[str, str]]:
        aimed = sum(self.aimed_kills.values())
        by_aim = ", ".join(f"{k} {n}" for k, n in sorted(self.aimed_kills.items())) or "-"
        sigterm_ok = sum(1 for c in self.sigterm_codes if c == 0)
        healthy = sorted(self.healthy_times)
        median = healthy[len(healthy) // 2] if healthy else 0.0
        kinds = Counter(v.kind for v in self.violations)
        return [
            ("kills (SIGKILL)", str(self.kills)),
            ("aimed kills (order path)", f"{aimed} ({by_aim})"),
            ("random kills after healthy / during start-up", f"{self.random_kills} / "
             f"{self.startup_kills}"),
            ("aimed kills that fell back to random (no order in time)", str(self.aimed_fallbacks)),
            ("orders on the exchange", str(self.orders)),
            ("fills on the exchange", str(self.fills)),
            ("store orders in flight at a kill", str(self.in_flight_at_kill)),
            ("duplicate orders (client id twice / decision twice)", str(self.duplicates)),
            ("store/exchange mismatches", str(self.mismatches)),
            ("positions != balances net of dust: kills/stops that saw it (not repaired)",
             str(self.position_mismatches_seen)),
            ("transient position differences at a kill (fixed by the restart)",
             str(self.transient_position_diffs)),
            ("restarts / healthy (200) within bound", f"{self.restarts} / {len(healthy)}"),
            ("time to healthy: median / max", f"{median:.2f} s / {self.max_time_to_healthy:.2f} s"),
            ("SIGTERM mid-order: exit 0", f"{sigterm_ok}/{len(self.sigterm_codes)} "
             f"(order in flight at the signal: {self.sigterm_in_flight}; "
             f"left in flight: {self.sigterm_left_in_flight})"),
            ("`thunes audit verify` runs (CLI)", str(self.cli_verifies)),
            ("violations", str(len(self.violations)) + (
                " (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")"
                if kinds else "")),
            ("elapsed", f"{self.elapsed_s:.0f} s"),
        ]


# ---- reading the frozen state -------------------------------------------------------------------


def _dec(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def base_asset(symbol: str) -> str:
    return symbol[: -len(QUOTE)] if symbol.endswith(QUOTE) else symbol


@dataclass
class Frozen:
    """Store rows, exchange snapshot and audit entries, read while no daemon runs."""

    store_orders: dict[str, dict[str, Any]]
    fills: list[tuple[str, int, str]]  # (symbol, trade_id, client_order_id)
    positions: dict[str, Decimal]
    exchange_orders: list[dict[str, Any]]
    balances: dict[str, Decimal]
    audit: list[dict[str, Any]]
    dust: dict[str, Decimal]  # tracked dust per symbol in the store (`dust:<SYMBOL>` in kv)

    def in_flight(self) -> dict[str, dict[str, Any]]:
        return {c: r for c, r in self.store_orders.items() if r["state"] not in FINAL}


def _query(db: Path, sql: str) -> list[sqlite3.Row]:
    if not db.exists():
        return []
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # no schema yet
        return []
    finally:
        connection.close()


def read_audit(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a torn last line is verify's business
    return entries


def read_frozen(state_dir: Path, log_dir: Path) -> Frozen:
    db = state_dir / DB_FILE
    orders = {
        r["client_order_id"]: dict(r)
        for r in _query(
            db, "SELECT client_order_id, symbol, side, state, executed_qty, exchange_order_id, "
            "correlation_id, error FROM orders"
        )
    }
    fills = [
        (r["symbol"], int(r["trade_id"]), r["client_order_id"])
        for r in _query(db, "SELECT symbol, trade_id, client_order_id FROM fills")
    ]
    positions: dict[str, Decimal] = defaultdict(Decimal)
    for r in _query(db, "SELECT symbol, quantity FROM positions WHERE closed_at IS NULL"):
        positions[r["symbol"]] += _dec(r["quantity"])
    snapshot_path = state_dir / SNAPSHOT_FILE
    exchange: dict[str, Any] = {"orders": [], "balances": {}}
    if snapshot_path.exists():
        exchange = json.loads(snapshot_path.read_text())["exchange"]
    balances = {
        asset: _dec(b.get("free", 0)) + _dec(b.get("locked", 0))
        for asset, b in exchange["balances"].items()
    }
    dust = {
        str(r["key"]).removeprefix(DUST_PREFIX): _dec(str(r["value"]).split("|")[0])
        for r in _query(db, f"SELECT key, value FROM kv WHERE key LIKE '{DUST_PREFIX}%'")
    }
    return Frozen(
        orders, fills, dict(positions), list(exchange["orders"]), balances,
        read_audit(log_dir / AUDIT_FILE), dust,
    )


def find_dust(status: object) -> dict[str, Decimal]:
    """Tracked dust per symbol from `thunes status --json`, wherever it reports it.

    Any key containing "dust" counts: a mapping symbol-or-asset → quantity, a list of records
    with a symbol (or asset) and a quantity, or a quantity inside a record that has a symbol.
    """
    found: dict[str, Decimal] = defaultdict(Decimal)

    def symbol_of(name: str) -> str:
        return name if name.endswith(QUOTE) else name + QUOTE

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if "dust" not in str(key).lower():
                walk(value)
                continue
            if isinstance(value, dict):
                for name, qty in value.items():
                    if isinstance(qty, dict):
                        qty = qty.get("quantity", qty.get("qty", qty.get("amount", 0)))
                    found[symbol_of(str(name))] += _dec(qty)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        name = item.get("symbol") or item.get("asset")
                        qty = item.get("quantity", item.get("qty", item.get("amount", 0)))
                        if name:
                            found[symbol_of(str(name))] += _dec(qty)
            elif isinstance(value, str | int | float) and node.get("symbol"):
                found[symbol_of(str(node["symbol"]))] += _dec(value)

    walk(status)
    return {s: q for s, q in found.items() if q}


# ---- the daemon ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def health_status(port: int) -> int:
    """HTTP status of /health (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return 0


class AuditTail:
    """New complete lines of the audit trail since the last look (the daemon appends)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self.partial = b""

    def new_kinds(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data, self.partial = self.partial + data, b""
        lines = data.split(b"\n")
        self.partial = lines.pop()
        kinds = []
        for line in lines:
            marker = line.find(b'"kind":"')
            if marker >= 0:
                start = marker + len(b'"kind":"')
                kinds.append(line[start : line.find(b'"', start)].decode(errors="replace"))
        return kinds


class Soak:
    def __init__(self, config: SoakConfig, workdir: Path) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.workdir = workdir
        self.state_dir = workdir / "state"
        self.log_dir = workdir / "logs"
        self.health_port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "PYTHONHASHSEED": "0",
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}),
            "THUNES_MODE": "sim",
            "THUNES_SYMBOLS": ",".join(config.symbols),
            "THUNES_TIMEFRAME": config.timeframe,
            "THUNES_CHECK_INTERVAL_MINUTES": f"{config.check_interval_minutes:g}",
            "THUNES_SIM_START": config.sim_start,
            "THUNES_QUOTE_AMOUNT": "25",
            "THUNES_DAILY_LOSS_LIMIT": "100000",
            "THUNES_MIN_CONFIDENCE": "0",
            "THUNES_COOLDOWN_MINUTES": "0",
            "THUNES_STATE_DIR": str(self.state_dir),
            "THUNES_LOG_DIR": str(self.log_dir),
            "THUNES_LOG_LEVEL": "INFO",
            "THUNES_HEALTH_PORT": str(self.health_port),
            "THUNES_SIM_PORT": str(free_port()),
        }
        self.result = SoakResult()
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.points = 0  # frozen states checked so far
        self.exit_reported = False
        self.last_start_s = 3.0
        # what earlier kills left to be settled by the restarts after them
        # client order id -> (healthy restarts, monotonic time) when first seen in flight
        self.pending_orders: dict[str, tuple[int, float]] = {}
        self.healthy_restarts = 0
        self.pending_fills: dict[tuple[str, int], int] = {}  # -> healthy restarts when seen
        # symbol -> (difference, trades of the symbol, healthy restarts) at the last kill
        self.position_diffs: dict[str, tuple[Decimal, int, int]] = {}
        self.dust_cache: tuple[int, dict[str, Decimal]] | None = None
        self.reported: set[tuple[str, str]] = set()

    # ---- process --------------------------------------------------------------------------------

    def prepare(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "strategy": "sma",
            "interval": self.config.timeframe,  # the daemon refuses parameters of other bars
            "params": FAST_PARAMS,
            "symbols": list(self.config.symbols),
            "data_window": {"start": "2023-01-01T00:00:00+00:00",
                            "end": "2023-02-01T00:00:00+00:00"},
            "score": {"note": "soak: a fast crossover to exercise the order path"},
            "data_sha256": "0" * 64,
            "published_at": "2023-02-01T00:00:00+00:00",
        }
        (self.state_dir / "strategy_params.json").write_text(json.dumps(record, indent=2))

    def spawn(self) -> subprocess.Popen[bytes]:
        self.runs += 1
        self.exit_reported = False
        out = (self.workdir / f"run-{self.runs:03d}.err").open("wb")
        command = [self.config.python, "-m", "thunes.orchestration.run_scheduler",
                   "--env-file", os.devnull,
                   "--mode", "sim", "--speed", f"{self.config.speed:g}"]
        self.proc = subprocess.Popen(
            command, cwd=self.workdir, env=self.env, stdout=subprocess.DEVNULL, stderr=out
        )
        out.close()
        self.result.restarts += 1
        return self.proc

    def stderr_tail(self, lines: int = 6) -> str:
        path = self.workdir / f"run-{self.runs:03d}.err"
        text = path.read_text(errors="replace").strip() if path.exists() else ""
        return " | ".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_healthy(self, started: float, at: str) -> float | None:
        """Seconds from spawn to the first 200; records a violation past the bound."""
        bound = self.config.healthy_bound_s
        while True:
            elapsed = time.monotonic() - started
            if not self.alive():
                assert self.proc is not None
                self.exit_reported = True
                self.violate("daemon_exit", at, f"exited {self.proc.returncode} before healthy: "
                             f"{self.stderr_tail()}")
                return None
            if health_status(self.health_port) == 200:
                self.result.healthy_times.append(elapsed)
                self.healthy_restarts += 1
                self.last_start_s = elapsed
                return elapsed
            if elapsed > bound:
                status = health_status(self.health_port)
                self.violate("not_healthy", at, f"/health {status} after {bound:g} s")
                return None
            time.sleep(0.02)

    def hard_kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_BOUND_S)
            self.result.kills += 1

    def store_in_flight(self, states: frozenset[str] = SENDING) -> set[str]:
        """Client order ids the store holds in one of `states` right now."""
        marks = ",".join(f"'{state}'" for state in sorted(states))
        rows = _query(self.state_dir / DB_FILE,
                      f"SELECT client_order_id FROM orders WHERE state IN ({marks})")
        return {str(row[0]) for row in rows}

    def wait_for_aim(self, aim: str, tail: AuditTail, timeout: float) -> bool:
        """Poll until the aimed moment (True) or the timeout / the daemon's exit (False).

        An order already in flight when the aim starts (an unknown outcome still waiting for
        its lookup) does not count: the aim is at an order being sent now.
        """
        deadline = time.monotonic() + timeout
        earlier = self.store_in_flight() if aim == "store_in_flight" else set()
        while time.monotonic() < deadline and self.alive():
            if aim == "store_in_flight":
                if self.store_in_flight() - earlier:
                    return True
            elif aim in tail.new_kinds():
                return True
            time.sleep(POLL_S)
        return False

    def violate(self, kind: str, at: str, detail: str) -> None:
        violation = Violation(kind, at, detail)
        self.result.violations.append(violation)
        self.config.log(f"  VIOLATION {violation}")

    # ---- one kill -------------------------------------------------------------------------------

    def kill_cycle(self, number: int) -> None:
        roll = self.rng.random()
        cfg = self.config
        if cfg.kinds:
            kind = cfg.kinds[(number - 1) % len(cfg.kinds)]
        elif roll < cfg.startup_share:
            kind = "startup"
        elif roll < cfg.startup_share + cfg.aimed_share:
            kind = self.rng.choice(AIMS)
        else:
            kind = "random"
        tail = AuditTail(self.log_dir / AUDIT_FILE)
        started = time.monotonic()
        self.spawn()
        at = f"kill {number} ({kind})"
        if kind == "startup":
            deadline = started + self.rng.uniform(0.2, max(0.3, self.last_start_s))
            while time.monotonic() < deadline and self.alive():
                if health_status(self.health_port) == 200:
                    break
                time.sleep(0.01)
            self.result.startup_kills += 1
        else:
            healthy = self.wait_healthy(started, at)
            if kind == "random" or healthy is None:
                self.result.random_kills += 1
                self.random_pause()
            else:
                tail.new_kinds()  # aim at what happens from now on
                if self.wait_for_aim(kind, tail, cfg.aim_timeout_s):
                    self.result.aimed_kills[kind] += 1
                else:
                    self.result.aimed_fallbacks += 1
                    self.result.random_kills += 1
        if not self.alive() and not self.exit_reported:
            assert self.proc is not None
            self.violate("daemon_exit", at, f"exited {self.proc.returncode} on its own: "
                         f"{self.stderr_tail()}")
        self.hard_kill()
        self.check_frozen(at, cli=number % cfg.cli_verify_every == 0)

    def random_pause(self) -> None:
        """The random kill moment: a uniform delay, ended early if the daemon dies."""
        deadline = time.monotonic() + self.rng.uniform(0.0, self.config.max_random_delay_s)
        while time.monotonic() < deadline and self.alive():
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    # ---- the checks -----------------------------------------------------------------------------

    def check_frozen(self, at: str, *, cli: bool = False, settled: bool = False) -> Frozen:
        self.points += 1
        number = self.points
        frozen = read_frozen(self.state_dir, self.log_dir)
        self.result.orders = len(frozen.exchange_orders)
        self.result.fills = sum(len(o.get("fills") or []) for o in frozen.exchange_orders)
        in_flight = frozen.in_flight()
        if not settled:
            self.result.in_flight_at_kill += len(in_flight)
        self.check_duplicates(frozen, at)
        self.check_orders(frozen, at, number, settled)
        self.check_positions(frozen, at, settled)
        self.check_audit(frozen, at, cli, settled)
        return frozen

    def once(self, kind: str, key: str) -> bool:
        """True the first time a (kind, key) violation is seen: report each problem once."""
        if (kind, key) in self.reported:
            return False
        self.reported.add((kind, key))
        return True

    def check_duplicates(self, frozen: Frozen, at: str) -> None:
        by_cid = Counter(o["client_order_id"] for o in frozen.exchange_orders)
        for cid, count in by_cid.items():
            if count > 1 and self.once("duplicate_client_id", cid):
                self.result.duplicates += 1
                self.violate("duplicate_client_id", at, f"{cid} is on the exchange {count} times")
        on_exchange = set(by_cid)
        decisions: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for entry in frozen.audit:
            data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
            cid = str(data.get("client_order_id") or "")
            if cid not in on_exchange:
                continue
            if entry.get("kind") == "decision" and data.get("bar_time") and data.get("action"):
                key = ("bar", str(data.get("symbol")), str(data["bar_time"]), str(data["action"]))
                decisions[key].add(cid)
            if entry.get("kind") == "order_sent" and entry.get("correlation_id"):
                key = ("check", str(data.get("symbol")), str(entry["correlation_id"]))
                decisions[key].add(cid)
        for cid, row in frozen.store_orders.items():
            if cid in on_exchange and row.get("correlation_id"):
                decisions[("check", row["symbol"], row["correlation_id"])].add(cid)
        for key, cids in decisions.items():
            if len(cids) > 1 and self.once("decision_twice", "|".join(key)):
                self.result.duplicates += 1
                self.violate("decision_twice", at,
                             f"decision {key[1:]} has {len(cids)} exchange orders: {sorted(cids)}")

    def check_orders(self, frozen: Frozen, at: str, number: int, settled: bool) -> None:
        exchange = {o["client_order_id"]: o for o in frozen.exchange_orders}
        for cid, order in exchange.items():
            row = frozen.store_orders.get(cid)
            if row is None:
                if self.once("order_unknown_to_store", cid):
                    self.result.mismatches += 1
                    self.violate("order_unknown_to_store", at,
                                 f"{order['symbol']} {order['side']} {cid} {order['status']} "
                                 f"executed {order['executed_qty']} has no store row")
                continue
        for cid, row in frozen.store_orders.items():
            order = exchange.get(cid)
            state = str(row["state"])
            if state not in FINAL:
                restarts, since = self.pending_orders.setdefault(
                    cid, (self.healthy_restarts, time.monotonic())
                )
                # Settled: every in-flight order must be resolved. After kills: once two
                # restarts reached healthy (reconciled) and the exchange's order window (real
                # seconds) is long past.
                overdue = settled or (
                    self.healthy_restarts - restarts >= 2
                    and time.monotonic() - since > UNRESOLVED_AFTER_S
                )
                if overdue and self.once("order_unresolved", cid):
                    self.result.mismatches += 1
                    self.violate("order_unresolved", at,
                                 f"{row['symbol']} {row['side']} {cid} still {state} "
                                 f"(in flight for {time.monotonic() - since:.0f} s, "
                                 f"{self.healthy_restarts - restarts} restarts); exchange: "
                                 f"{_order_brief(order)}")
                continue
            self.pending_orders.pop(cid, None)
            if order is None:
                reached = state not in NEVER_REACHED or _dec(row["executed_qty"]) != 0
                if reached and self.once("store_order_not_on_exchange", cid):
                    self.result.mismatches += 1
                    self.violate("store_order_not_on_exchange", at,
                                 f"{row['symbol']} {row['side']} {cid} is {state} executed "
                                 f"{row['executed_qty']} in the store, absent on the exchange")
                continue
            wanted = STORE_TO_EXCHANGE.get(state, state)
            same_qty = _dec(row["executed_qty"]) == _dec(order["executed_qty"])
            if (wanted != order["status"] or not same_qty) and self.once("order_mismatch", cid):
                self.result.mismatches += 1
                self.violate("order_mismatch", at,
                             f"{row['symbol']} {row['side']} {cid}: store {state} "
                             f"{row['executed_qty']} (error {row.get('error')!r}), exchange "
                             f"{_order_brief(order)}")

    def check_positions(self, frozen: Frozen, at: str, settled: bool) -> None:
        busy = {row["symbol"] for row in frozen.in_flight().values()}
        for symbol in self.config.symbols:
            held = frozen.balances.get(base_asset(symbol), Decimal(0))
            position = frozen.positions.get(symbol, Decimal(0))
            diff = held - position - frozen.dust.get(symbol, Decimal(0))
            trades = sum(len(o.get("fills") or []) for o in frozen.exchange_orders
                         if o["symbol"] == symbol)
            previous = self.position_diffs.pop(symbol, None)
            if diff == 0:
                continue
            self.position_diffs[symbol] = (diff, trades, self.healthy_restarts)
            # A kill between a fill and the position update leaves a difference the restart
            # must repair. The same difference across a restart with no trade in between was
            # not repaired; a settled (graceful) stop must show none. Either way the difference
            # may be tracked dust, which `thunes status` reports.
            persistent = (
                previous is not None
                and previous[:2] == (diff, trades)
                and previous[2] < self.healthy_restarts
                and symbol not in busy
            )
            if not (settled or persistent):
                if previous is None or previous[1] != trades:
                    self.result.transient_position_diffs += 1
                continue
            # dust the store keeps elsewhere, as `thunes status` reports it
            dust = frozen.dust.get(symbol, Decimal(0))
            reported = dust or self.tracked_dust().get(symbol, Decimal(0))
            untracked = diff + dust - reported
            if untracked == 0:
                continue
            self.result.position_mismatches_seen += 1
            # one report per symbol, direction and kind of moment (the figure counts them all)
            drift = "excess" if untracked > 0 else "short"
            if self.once("position_mismatch", f"{symbol}:{drift}:{settled}"):
                self.result.mismatches += 1
                self.violate("position_mismatch", at,
                             f"{symbol}: exchange holds {held} {base_asset(symbol)}, store "
                             f"position {position}, tracked dust {reported}: {untracked} untracked "
                             f"(after {trades} trades"
                             f"{'' if settled else ', unchanged across a restart'})")

    def tracked_dust(self) -> dict[str, Decimal]:
        """Tracked dust as `thunes status --json` reports it (empty when it reports none)."""
        if self.dust_cache is not None and self.dust_cache[0] == self.points:
            return self.dust_cache[1]
        done = subprocess.run(
            [self.config.python, "-m", "thunes", "status", "--json"],
            cwd=self.workdir, env=self.env, capture_output=True, timeout=60,
        )
        try:
            dust = find_dust(json.loads(done.stdout or b"{}"))
        except ValueError:
            dust = {}
        self.dust_cache = (self.points, dust)
        return dust

    def check_audit(self, frozen: Frozen, at: str, cli: bool, settled: bool) -> None:
        path = self.log_dir / AUDIT_FILE
        verdict = verify_audit(path)
        if not verdict.ok and self.once("audit_broken", verdict.summary()):
            self.violate("audit_broken", at, verdict.summary())
        if cli:
            self.cli_verify(at)
        audited = set()
        for entry in frozen.audit:
            data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
            if "fill" in str(entry.get("kind")) and "trade_id" in data:
                audited.add((str(data.get("symbol")), int(data["trade_id"])))
        for symbol, trade_id, cid in frozen.fills:
            key = (symbol, trade_id)
            if key in audited:
                self.pending_fills.pop(key, None)
                continue
            first = self.pending_fills.setdefault(key, self.healthy_restarts)
            overdue = settled or self.healthy_restarts > first
            if overdue and self.once("fill_not_audited", f"{symbol}:{trade_id}"):
                self.violate("fill_not_audited", at,
                             f"{symbol} trade {trade_id} of {cid} is in the store with no `fill` "
                             f"audit entry, not re-derived by the restart after the kill that "
                             f"first saw it")

    def cli_verify(self, at: str) -> None:
        done = subprocess.run(
            [self.config.python, "-m", "thunes", "audit", "verify"],
            cwd=self.workdir, env=self.env, capture_output=True, timeout=60,
        )
        self.result.cli_verifies += 1
        if done.returncode != 0:
            text = (done.stdout + done.stderr).decode(errors="replace").strip()
            self.violate("audit_verify_cli", at, f"exit {done.returncode}: {text[-300:]}")

    # ---- SIGTERM and the settled end ------------------------------------------------------------

    def sigterm_cycle(self, number: int) -> None:
        at = f"SIGTERM {number}"
        tail = AuditTail(self.log_dir / AUDIT_FILE)
        started = time.monotonic()
        self.spawn()
        if self.wait_healthy(started, at) is None:
            self.hard_kill()
            self.result.sigterm_codes.append(None)
            self.check_frozen(at)
            return
        tail.new_kinds()
        if self.wait_for_aim("order_sent", tail, self.config.aim_timeout_s):
            self.result.sigterm_in_flight += 1
        code = self.terminate(at)
        self.result.sigterm_codes.append(code)
        frozen = self.check_frozen(at)
        self.result.sigterm_left_in_flight += len(frozen.in_flight())

    def terminate(self, at: str) -> int | None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            self.violate("daemon_exit", at, f"exited {self.proc.returncode} before SIGTERM: "
                         f"{self.stderr_tail()}")
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            self.violate("sigterm_hang", at, f"still running {STOP_BOUND_S:g} s after SIGTERM")
            self.hard_kill()
            return None
        if code != 0:
            self.violate("sigterm_exit_code", at, f"exit {code}: {self.stderr_tail()}")
        return code

    def settled_end(self) -> None:
        """Restart, let it run, stop it gracefully; then everything must match exactly."""
        at, cfg = "final", self.config
        for attempt in range(3):
            started = time.monotonic()
            self.spawn()
            if self.wait_healthy(started, at) is not None:
                # a few checks after the restart's reconciliation, then a moment with no order
                # in flight (an unknown outcome may wait for the exchange's order window)
                begun = time.monotonic()
                settle = cfg.settle_checks * self.check_seconds()
                while self.alive() and time.monotonic() - begun < SETTLE_BOUND_S:
                    quiet = not self.store_in_flight(frozenset(IN_FLIGHT))
                    if quiet and time.monotonic() - begun > settle:
                        break
                    time.sleep(0.05)
            self.terminate(at)
            frozen = read_frozen(self.state_dir, self.log_dir)
            if not frozen.in_flight() or attempt == 2:
                break
        self.check_frozen(at, cli=True, settled=True)

    def check_seconds(self) -> float:
        return self.config.check_interval_minutes * 60 / self.config.speed

    def run(self) -> SoakResult:
        begun = time.monotonic()
        self.prepare()
        log = self.config.log
        try:
            for number in range(1, self.config.kills + 1):
                self.kill_cycle(number)
                if number % 10 == 0 or number == self.config.kills:
                    log(f"  {number} kills: {self.result.orders} orders, {self.result.fills} "
                        f"fills, {len(self.result.violations)} violations")
            for number in range(1, self.config.sigterms + 1):
                self.sigterm_cycle(number)
            self.settled_end()
        finally:
            self.hard_kill()
            self.result.elapsed_s = time.monotonic() - begun
        return self.result


def _order_brief(order: dict[str, Any] | None) -> str:
    if order is None:
        return "absent"
    return f"{order['status']} executed {order['executed_qty']}"


@contextmanager
def _workdir(config: SoakConfig) -> Iterator[Path]:
    if config.workdir is not None:
        config.workdir.mkdir(parents=True, exist_ok=True)
        yield config.workdir
        return
    with tempfile.TemporaryDirectory(prefix="thunes-soak-") as tmp:
        yield Path(tmp)


def run_soak(config: SoakConfig) -> SoakResult:
    """Run the whole soak (kills, SIGTERMs, settled end) and return what it saw."""
    with _workdir(config) as workdir:
        return Soak(config, workdir).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs (default 100)")
    parser.add_argument("--sigterms", type=int, default=12,
                        help="SIGTERMs while an order is in flight (default 12)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--speed", type=float, default=1000.0, help="sim speed (default 1000)")
    parser.add_argument("--aimed-share", type=float, default=0.5,
                        help="share of kills aimed at the order path (default 0.5)")
    parser.add_argument("--startup-share", type=float, default=0.1,
                        help="share of kills during start-up (default 0.1)")
    parser.add_argument("--healthy-bound", type=float, default=10.0,
                        help="seconds within which /health must be 200 again (default 10)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep state, logs and daemon output here (default: temporary)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    config = SoakConfig(
        kills=args.kills, sigterms=args.sigterms, seed=seed, speed=args.speed,
        aimed_share=args.aimed_share, startup_share=args.startup_share,
        healthy_bound_s=args.healthy_bound, workdir=args.workdir,
    )
    print(f"soak: {config.kills} SIGKILLs, {config.sigterms} SIGTERMs, seed {seed}, "
          f"speed {config.speed:g}x", flush=True)
    result = run_soak(config)
    print()
    width = max(len(name) for name, _ in result.summary())
    for name, value in result.summary():
        print(f"{name:<{width}}  {value}")
    for violation in result.violations:
        print(f"VIOLATION {violation}")
    print("soak: OK" if result.ok else f"soak: FAILED ({len(result.violations)} violations)")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    raise SystemExit(main())
