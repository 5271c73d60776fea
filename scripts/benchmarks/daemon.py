"""The daemon's footprint (issue 7), measured on the real daemon in a child process.

* Idle: `run_scheduler --mode sim --speed 1`, one symbol, the default 10-minute check interval,
  so once /health answers the daemon sits between checks; CPU and RSS are sampled from /proc.
  Target: under 1 % CPU and under 150 MB RSS. Then SIGTERM; the exit code must be 0.
* A simulated week at high speed (1h klines, a check every 10 simulated minutes): RSS sampled
  every few seconds; growth after warm-up must stay under 10 %. Warm-up ends a quarter day
  after the first daily summary (end of simulated day 1), whose chart loads matplotlib once
  (about 30 MB the daemon does not carry before).

Checks and trades are counted from the audit trail the child writes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

IDLE_SAMPLE_S = 25.0
IDLE_SETTLE_S = 3.0
WEEK_SPEED = 3600.0  # a simulated week in 168 real seconds, a check every 1/6 s
WEEK_DAYS = 7
SAMPLE_EVERY_S = 2.0
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
RATE_LIMITED = ("rate limited", "IP banned", " 429", "-1003")


class Sample(NamedTuple):
    at: float  # real seconds since sampling began
    cpu_s: float
    rss_mb: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _sample(pid: int, origin: float) -> Sample:
    return Sample(time.perf_counter() - origin, _cpu_seconds(pid), _rss_mb(pid))


def _health(port: int) -> dict[str, object] | None:
    """The /health body (200 or 503 both count as answering), None when nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read()))
    except (OSError, ValueError):
        return None


class Child:
    """The daemon child process, its health port and its temporary directory."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
        self.process, self.port, self.workdir = process, port, workdir

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_healthy(self) -> float:
        """Seconds until /health answers; raises if the daemon exits or never answers."""
        started = time.perf_counter()
        while time.perf_counter() - started < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.process.returncode}: {self.stderr()}")
            if _health(self.port) is not None:
                return time.perf_counter() - started
            time.sleep(0.2)
        raise RuntimeError(f"no /health after {START_TIMEOUT_S:.0f} s: {self.stderr()}")

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long the daemon took to stop."""
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=STOP_TIMEOUT_S)
        return code, time.perf_counter() - started

    def stderr_text(self) -> str:
        return (self.workdir / "stderr.txt").read_text(errors="replace")

    def stderr(self) -> str:
        text = self.stderr_text().strip()
        return text.splitlines()[-1] if text else "(no output)"

    def audit(self) -> list[dict[str, object]]:
        path = self.workdir / "logs" / "audit_trail.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextmanager
def daemon(speed: float, **env: str) -> Iterator[Child]:
    """The real daemon in sim mode in a temporary state/log directory; killed if left running."""
    with tempfile.TemporaryDirectory(prefix="thunes-bench-") as tmp:
        workdir = Path(tmp)
        port = _free_port()
        child_env = {
            **os.environ,
            "THUNES_STATE_DIR": str(workdir / "state"),
            "THUNES_LOG_DIR": str(workdir / "logs"),
            "THUNES_SYMBOLS": "BTCUSDT",
            "THUNES_HEALTH_PORT": str(port),
            "THUNES_LOG_LEVEL": "INFO",
            **env,
        }
        command = [
            sys.executable,
            "-m",
            "thunes.orchestration.run_scheduler",
            "--env-file",
            os.devnull,
            "--mode",
            "sim",
            "--speed",
            f"{speed:g}",
        ]
        with (workdir / "stderr.txt").open("wb") as err:
            process = subprocess.Popen(
                command, env=child_env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=err
            )
        child = Child(process, port, workdir)
        try:
            yield child
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _idle() -> list[tuple[str, str]]:
    with daemon(1.0) as child:
        startup = child.wait_healthy()
        time.sleep(IDLE_SETTLE_S)
        origin = time.perf_counter()
        first = _sample(child.pid, origin)
        samples = [first]
        while samples[-1].at < IDLE_SAMPLE_S:
            time.sleep(1.0)
            samples.append(_sample(child.pid, origin))
        last = samples[-1]
        cpu_pct = 100 * (last.cpu_s - first.cpu_s) / (last.at - first.at)
        rss = max(s.rss_mb for s in samples)
        code, stop_s = child.terminate()
    return [
        ("idle: start-up until /health answers", f"{startup:.1f} s"),
        (f"idle: CPU over {last.at - first.at:.0f} s between checks", f"{cpu_pct:.2f} %"),
        ("idle: RSS (max of samples)", f"{rss:.1f} MB"),
        ("idle: exit code after SIGTERM", f"{code} (stopped in {stop_s:.1f} s)"),
        ("idle targets", "CPU < 1 %, RSS < 150 MB, exit 0"),
    ]


def _data(entry: dict[str, object]) -> dict[str, object]:
    data = entry.get("data")
    return data if isinstance(data, dict) else {}


def _week_counts(entries: list[dict[str, object]]) -> dict[str, str]:
    """Checks, decisions, fills and 429s from the audit trail, with the simulated span."""
    # The pipeline's decision entries carry an outcome; the risk manager's (entries and exits
    # only) do not, and would count those twice.
    decisions = [e for e in entries if e.get("kind") == "decision" and "outcome" in _data(e)]
    actions = Counter(str(_data(e).get("action")) for e in decisions)
    signals = Counter(str(_data(e).get("signal")) for e in decisions)
    times = [str(e.get("time")) for e in decisions]
    return {
        "checks": str(len({str(e.get("correlation_id")) for e in decisions})),
        "actions": ", ".join(f"{a} {n}" for a, n in sorted(actions.items())),
        "signals": ", ".join(f"{a} {n}" for a, n in sorted(signals.items())),
        "fills": str(sum(1 for e in entries if e.get("kind") == "event.fill")),
        "span": f"{times[0][:16]} .. {times[-1][:16]}" if times else "-",
    }


def _week() -> list[tuple[str, str]]:
    real_s = WEEK_DAYS * 86_400 / WEEK_SPEED
    day_s = 86_400 / WEEK_SPEED
    # Every crossover trades (no volume-confidence filter), so the order path runs all week.
    with daemon(
        WEEK_SPEED, THUNES_TIMEFRAME="1h", THUNES_LOG_LEVEL="WARNING", THUNES_MIN_CONFIDENCE="0"
    ) as child:
        child.wait_healthy()
        origin = time.perf_counter()
        samples = [_sample(child.pid, origin)]
        while samples[-1].at < real_s:
            time.sleep(min(SAMPLE_EVERY_S, max(0.05, real_s - samples[-1].at)))
            samples.append(_sample(child.pid, origin))
        code, _ = child.terminate()
        entries = child.audit()
        log = child.stderr_text()
        skipped = log.count("maximum number of running instances")
        limited = sum(1 for line in log.splitlines() if any(m in line for m in RATE_LIMITED))
    warm = next(s for s in samples if s.at >= WARM_UP_DAYS * day_s)
    end = samples[-1]
    peak = max(s.rss_mb for s in samples)
    growth = 100 * (end.rss_mb - warm.rss_mb) / warm.rss_mb
    daily = [
        f"{next((s for s in samples if s.at >= day * day_s), end).rss_mb:.0f}"
        for day in range(1, WEEK_DAYS + 1)
    ]
    cpu_pct = 100 * (end.cpu_s - samples[0].cpu_s) / (end.at - samples[0].at)
    counts = _week_counts(entries)
    return [
        ("week: speed, real duration", f"{WEEK_SPEED:g}x, {end.at:.0f} s"),
        ("week: simulated span of checks", counts["span"]),
        ("week: checks run (one per 10 simulated min)", f"{counts['checks']} ({WEEK_DAYS * 144})"),
        ("week: job runs skipped (previous still running)", str(skipped)),
        ("week: strategy signals", counts["signals"]),
        ("week: decisions", counts["actions"]),
        ("week: fills", counts["fills"]),
        ("week: log lines about 429/418/-1003 (rate limit)", str(limited)),
        (
            "week: RSS at start / after warm-up / end / peak",
            f"{samples[0].rss_mb:.1f} / {warm.rss_mb:.1f} / {end.rss_mb:.1f} / {peak:.1f} MB",
        ),
        ("week: RSS growth after warm-up (first daily summary)", f"{growth:+.1f} %"),
        ("week: RSS at the end of each simulated day", " ".join(daily) + " MB"),
        ("week: CPU while replaying", f"{cpu_pct:.0f} %"),
        ("week: exit code after SIGTERM", str(code)),
        ("week target", "RSS growth < 10 % after warm-up"),
    ]


WARM_UP_DAYS = 1.25


def run() -> list[tuple[str, str]]:
    return _idle() + _week()


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure}: {value}")
