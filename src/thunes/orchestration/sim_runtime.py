"""The embedded simulator of `sim` mode: started in-process on a clock the daemon shares.

Its exchange state and simulated time are saved in the state directory after every check and on
stop, so a restarted daemon reconciles against the same exchange at the same moment.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from thunes.clock import SimClock
from thunes.config import Settings
from thunes.market.klines import symbol_from_filename
from thunes.orchestration.footprint import release_free_memory, stream_interval
from thunes.sim import Simulator, SimulatorConfig, default_data, replay_clock
from thunes.sim.universe import DataDirError, folder_data
from thunes.store import Store

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "sim_exchange.json"
SIM_TIME_KEY = "sim.time"


class SimSetupError(ValueError):
    """The sim settings cannot work (no data for a symbol, unreadable start time)."""


@dataclass
class SimRuntime:
    simulator: Simulator
    clock: SimClock
    store: Store
    snapshot_path: Path

    @property
    def api_key(self) -> str:
        return self.simulator.config.api_key

    @property
    def api_secret(self) -> str:
        return self.simulator.config.api_secret

    def record_time(self) -> None:
        """Remember how far the replay got (after every check and on stop).

        The exchange's own state needs no call here: the simulator rewrites its snapshot on
        every account change and once more when it stops.
        """
        self.store.kv_set(SIM_TIME_KEY, repr(self.clock.time()))

    async def stop(self) -> None:
        try:
            self.record_time()
        finally:
            await self.simulator.stop()


def sim_data(settings: Settings) -> dict[str, Path]:
    """Symbol → kline file the embedded simulator replays.

    The configured symbols, from THUNES_SIM_DATA, THUNES_SIM_DATA_DIR or the bundled sample;
    with a data folder, every symbol in it too (the whole universe a ranking can choose from).
    """
    available = default_data()
    folder: dict[str, Path] = {}
    if settings.sim_data_dir is not None:
        try:
            folder = folder_data(settings.sim_data_dir)
        except DataDirError as exc:
            raise SimSetupError(f"THUNES_SIM_DATA_DIR: {exc}") from None
    available.update(folder)
    for path in settings.sim_data:
        symbol = symbol_from_filename(path)
        if symbol is None:
            raise SimSetupError(f"THUNES_SIM_DATA: cannot tell the symbol of {path}")
        available[symbol] = path
    missing = [s for s in settings.symbols if s not in available]
    if missing:
        raise SimSetupError(
            f"THUNES_SIM_DATA: no kline data for {', '.join(missing)} "
            f"(have {', '.join(sorted(available))})"
        )
    served = [*settings.symbols, *(s for s in available if s in folder or s in _named(settings))]
    return {s: available[s] for s in dict.fromkeys(served)}


def every_sim_file(settings: Settings) -> dict[str, Path]:
    """Every kline file a sim-mode tool (`thunes rank`, `thunes download`) may serve: the
    THUNES_SIM_DATA files (or the bundled samples) and the whole THUNES_SIM_DATA_DIR folder."""
    files: dict[str, Path] = {} if settings.sim_data else default_data()
    if settings.sim_data_dir is not None:
        try:
            files.update(folder_data(settings.sim_data_dir))
        except DataDirError as exc:
            raise SimSetupError(f"THUNES_SIM_DATA_DIR: {exc}") from None
    for path in settings.sim_data:
        symbol = symbol_from_filename(path)
        if symbol is None:
            raise SimSetupError(f"THUNES_SIM_DATA: cannot tell the symbol of {path}")
        files[symbol] = path
    return files


def _named(settings: Settings) -> set[str]:
    """Symbols THUNES_SIM_DATA names, served alongside a data folder's."""
    if settings.sim_data_dir is None:
        return set()
    return {s for s in map(symbol_from_filename, settings.sim_data) if s is not None}


def _snapshot_time(snapshot: Path) -> float | None:
    """Simulated time of the exchange's last saved change (written on every change)."""
    try:
        value = json.loads(snapshot.read_text()).get("time_ms")
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) / 1000 if isinstance(value, int | float) else None


def recorded_time(state_dir: Path, store: Store) -> float | None:
    """The latest simulated time THUNES or its exchange saved in this state, if any.

    `thunes status`, `report` and `kill` read it in sim mode: it is the daemon's "now".
    """
    saved = [float(v) for v in [store.kv_get(SIM_TIME_KEY)] if v is not None]
    snapshot_time = _snapshot_time(Path(state_dir) / SNAPSHOT_FILE)
    if snapshot_time is not None:
        saved.append(snapshot_time)
    return max(saved) if saved else None


def start_time(settings: Settings, store: Store, data: dict[str, Path]) -> float:
    """Where the replay resumes: never before anything the exchange or THUNES already saw."""
    saved = recorded_time(settings.state_dir, store)
    if saved is not None:
        return saved
    if settings.sim_start:
        try:
            when = datetime.fromisoformat(settings.sim_start)
        except ValueError:
            raise SimSetupError(
                f"THUNES_SIM_START: not an ISO time: {settings.sim_start}"
            ) from None
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    return replay_clock(data).time()


def weight_scale(settings: Settings) -> float:
    """How much larger the request-weight budget is in sim mode.

    Binance grants its weight per real minute; a replay at `speed` packs speed/60 simulated
    minutes into each real one, so the embedded exchange and THUNES' limiter both scale the
    budget by that factor: every simulated minute keeps Binance's budget.
    """
    return max(1.0, settings.sim_speed / 60.0)


async def start_simulator(settings: Settings, store: Store) -> SimRuntime:
    data = sim_data(settings)
    clock = SimClock(start=start_time(settings, store, data), speed=settings.sim_speed)
    snapshot = settings.state_dir / SNAPSHOT_FILE
    simulator = Simulator(
        SimulatorConfig(
            data=data,
            clock=clock,
            fee_rate=settings.sim_fee_rate,
            weight_limit=int(settings.rest_weight_limit * weight_scale(settings)),
            # Always set: the simulator restores it when it exists and rewrites it after every
            # account change, so a SIGKILL even before the first save loses no fill.
            snapshot_path=snapshot,
            stream_interval=stream_interval(settings.sim_speed),
        )
    )
    await simulator.start(port=settings.sim_port)
    release_free_memory()  # the replay's CSV parse buffers
    log.info(
        "simulator on %s replaying %s from %s at %gx",
        simulator.base_url,
        ", ".join(data),
        clock.now().isoformat(timespec="minutes"),
        settings.sim_speed,
    )
    runtime = SimRuntime(simulator, clock, store, snapshot)
    runtime.record_time()  # the CLI's clock from the start, not only after the first check
    return runtime
