"""Settings from the environment and `.env`, validated once at start-up.

Every setting is a field of the frozen `Settings` model; the core receives typed values, never a
dict. `load_settings()` turns every problem into one line naming the variable, so the CLI can
exit with code 2 and no traceback.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from thunes.intervals import TRADING_INTERVALS
from thunes.ranking.types import CADENCE_MINUTES

ENV_PREFIX = "THUNES_"
DEFAULT_ENV_FILE = ".env"
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{5,20}$")
TESTNET_URL_PATTERN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?/?$")
INTERVALS = TRADING_INTERVALS
ALERT_KINDS = (
    "fill",
    "order_rejected",
    "kill_switch",
    "breaker",
    "stream",
    "job_failure",
    "lifecycle",
    "reconciliation",
    "exit_blocked",
    "dust",
    "audit",
)


class Mode(StrEnum):
    SIM = "sim"
    TESTNET = "testnet"
    LIVE = "live"
    PAPER = "paper"  # public market data, orders filled on this machine against it


# paper mode's market-data source: REST base and stream base (the operator's defaults; tests
# point THUNES_PAPER_SOURCE_URL at a local simulator)
PAPER_SOURCES = {
    "live": ("https://api.binance.com", "wss://stream.binance.com:9443"),
    "testnet": ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision"),
}


def _split_list(value: Any) -> Any:
    """A list setting from text: comma-separated as `.env.example` documents, or a JSON list."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ValueError("not a JSON list; write the items comma-separated") from None
        if not isinstance(parsed, list):
            raise ValueError("not a JSON list; write the items comma-separated")
        return [str(item).strip() for item in parsed if str(item).strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


class Settings(BaseSettings):
    """All of THUNES' settings; read from `THUNES_*` variables and `.env`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    mode: Mode = Mode.SIM
    symbols: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["BTCUSDT"])
    timeframe: str = "1h"
    # A built-in (sma, rsi), a name from strategy_dir, path/to/file.py:Class or module:Class
    strategy: str = "sma"
    strategy_dir: Path = Path("strategies")
    check_interval_minutes: float = Field(10.0, gt=0)
    daily_summary_time: str = "23:00"

    # Sent as quoteOrderQty: more decimals than the quote asset's 8 is refused (-1111).
    quote_amount: Decimal = Field(Decimal("10"), gt=0, decimal_places=8)
    daily_loss_limit: Decimal = Field(Decimal("20"), gt=0)
    max_open_positions: int = Field(3, ge=1)
    cooldown_minutes: float = Field(60.0, ge=0)
    min_confidence: float = Field(0.5, ge=0)
    stop_loss_pct: Decimal = Field(Decimal("0.03"), ge=0, lt=1)
    exchange_stops: Literal["auto", "on", "off"] = "auto"
    stop_limit_distance_pct: Decimal = Field(Decimal("0.005"), ge=0, lt=Decimal("0.5"))

    breaker_fail_max: int = Field(5, ge=1)
    breaker_reset_seconds: float = Field(60.0, gt=0)
    ws_watchdog_seconds: float = Field(60.0, gt=0)
    ws_backoff_cap_seconds: float = Field(60.0, gt=0)
    price_staleness_seconds: float = Field(30.0, gt=0)
    rest_weight_limit: int = Field(6000, gt=0)
    rest_weight_margin: float = Field(0.2, ge=0, lt=1)

    api_key: SecretStr = SecretStr("")
    api_secret: SecretStr = SecretStr("")
    live_confirm: bool = False
    # testnet only: a Binance-compatible base URL instead of testnet.binance.vision (e.g. a
    # local `thunes sim`); REST under <url>/api, streams on the same host over ws(s)://
    testnet_url: str = ""
    # paper only: where public market data comes from (no keys are ever sent there), a base
    # URL overriding it (http(s)://HOST[:PORT], e.g. a local `thunes sim --clock wall`), and
    # the paper wallet's starting USDT (kept in the state directory after the first start)
    paper_source: Literal["live", "testnet"] = "live"
    paper_source_url: str = ""
    paper_wallet: Decimal = Field(Decimal("1000"), gt=0, decimal_places=8)

    telegram_token: SecretStr = SecretStr("")
    telegram_chat_id: int | None = None
    telegram_base_url: str = ""  # empty: python-telegram-bot's default, the public Bot API
    alerts_silenced: Annotated[list[str], NoDecode] = Field(default_factory=list)

    state_dir: Path = Path("state")
    log_dir: Path = Path("logs")
    log_level: str = "INFO"
    health_host: str = "127.0.0.1"
    health_port: int = Field(8787, ge=0, le=65535)
    # The web dashboard and its JSON API (/api/v1/); login with THUNES_API_TOKEN.
    web_host: str = "127.0.0.1"
    web_port: int = Field(8788, ge=0, le=65535)

    sim_speed: float = Field(60.0, gt=0)
    sim_data: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    sim_port: int = Field(0, ge=0, le=65535)
    sim_fee_rate: Decimal = Field(Decimal("0.001"), ge=0, lt=1)
    sim_start: str = ""
    # A folder of kline files (one per symbol, named in the file name) the embedded simulator
    # serves whole, each symbol listed from its first bar; empty: only THUNES_SIM_DATA/samples.
    sim_data_dir: Path | None = None

    # Market-universe ranking: pairs quoted in this asset, 24 h quote volume floor, never these.
    rank_quote_asset: str = "USDT"
    rank_min_quote_volume: Decimal = Field(Decimal("10000000"), ge=0)
    rank_deny: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Timeframes the daemon ranks on their cadence (empty: no scheduled ranking).
    rank_timeframes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Bearer token for the control endpoints (POST /trigger/...); empty: they refuse everyone.
    api_token: SecretStr = SecretStr("")
    # Which symbols each check trades: "static" (THUNES_SYMBOLS) or "ranked:N" (the top N of
    # the latest ranking of THUNES_TIMEFRAME, plus every symbol THUNES still holds).
    universe: str = "static"

    @field_validator(
        "symbols", "alerts_silenced", "sim_data", "rank_deny", "rank_timeframes", mode="before"
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _chat_id(cls, value: Any) -> Any:
        """Empty, as `.env.example` ships it, means not set."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("live_confirm", mode="before")
    @classmethod
    def _live_confirm(cls, value: Any) -> bool:
        """Real money needs the literal word: `yes`, `1` or `on` must not confirm by accident."""
        if isinstance(value, bool):
            return value
        text = str(value).strip()
        if text in ("", "false"):
            return False
        if text == "true":
            return True
        raise ValueError(f"must be exactly true (to trade real money) or false, not {text!r}")

    @field_validator("sim_data_dir", mode="before")
    @classmethod
    def _optional_path(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("universe")
    @classmethod
    def _universe(cls, value: str) -> str:
        text = value.strip()
        if text == "static" or re.fullmatch(r"ranked:[1-9]\d{0,3}", text):
            return text
        raise ValueError("must be static or ranked:N (N from 1), e.g. ranked:5")

    @field_validator("sim_start")
    @classmethod
    def _sim_start(cls, value: str) -> str:
        if value:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise ValueError("must be an ISO time in UTC, e.g. 2023-01-10T00:00:00") from None
        return value

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one symbol is needed")
        bad = [s for s in value if not SYMBOL_PATTERN.match(s)]
        if bad:
            raise ValueError(f"symbols must be upper-case letters and digits: {', '.join(bad)}")
        if len(set(value)) != len(value):
            raise ValueError("a symbol is listed twice")
        return value

    @field_validator("rank_quote_asset")
    @classmethod
    def _quote_asset(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{2,10}", value):
            raise ValueError("must be an upper-case asset name, e.g. USDT")
        return value

    @field_validator("rank_deny")
    @classmethod
    def _deny(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not SYMBOL_PATTERN.match(s)]
        if bad:
            raise ValueError(f"symbols must be upper-case letters and digits: {', '.join(bad)}")
        return value

    @field_validator("rank_timeframes")
    @classmethod
    def _rank_timeframes(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in CADENCE_MINUTES]
        if unknown:
            known = ", ".join(CADENCE_MINUTES)
            raise ValueError(f"no ranking cadence for {', '.join(unknown)}; one of {known}")
        return list(dict.fromkeys(value))

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        if value not in INTERVALS:
            raise ValueError(f"unknown interval {value!r}; one of {', '.join(INTERVALS)}")
        return value

    @field_validator("daily_summary_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be HH:MM in UTC, e.g. 23:00")
        return value

    @field_validator("testnet_url", "paper_source_url")
    @classmethod
    def _testnet_url(cls, value: str) -> str:
        if value and not TESTNET_URL_PATTERN.match(value):
            raise ValueError("must be http(s)://HOST[:PORT], e.g. http://127.0.0.1:8765")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("alerts_silenced")
    @classmethod
    def _alerts(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in ALERT_KINDS]
        if unknown:
            raise ValueError(f"unknown alert kinds {unknown}; known: {', '.join(ALERT_KINDS)}")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        problems = cross_field_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def ranked_top(self) -> int | None:
        """N of `THUNES_UNIVERSE=ranked:N`, or None for the static THUNES_SYMBOLS."""
        return int(self.universe.split(":")[1]) if self.universe.startswith("ranked:") else None

    @property
    def has_keys(self) -> bool:
        return bool(self.api_key.get_secret_value() and self.api_secret.get_secret_value())

    @property
    def exchange_stops_on(self) -> bool:
        """Whether a protective stop rests on the exchange for each position ("auto": live)."""
        if self.exchange_stops == "auto":
            return self.mode in (Mode.LIVE, Mode.PAPER)
        return self.exchange_stops == "on"

    @property
    def clock_speed(self) -> float:
        """Clock seconds per real second: the replay speed in sim mode, else 1."""
        return self.sim_speed if self.mode is Mode.SIM else 1.0

    @property
    def testnet_api_url(self) -> str | None:
        """python-binance's API_URL for the `testnet_url` override (None: the real testnet)."""
        if self.mode is not Mode.TESTNET or not self.testnet_url:
            return None
        return self.testnet_url + "/api"

    @property
    def testnet_stream_url(self) -> str | None:
        """The stream base for the `testnet_url` override (None: the real testnet's)."""
        if self.testnet_api_url is None:
            return None
        return "ws" + self.testnet_url.removeprefix("http")

    @property
    def paper_rest_url(self) -> str:
        """Paper mode's market-data REST base (`THUNES_PAPER_SOURCE_URL` or the source's)."""
        return self.paper_source_url or PAPER_SOURCES[self.paper_source][0]

    @property
    def paper_stream_url(self) -> str:
        """Paper mode's market-stream base: the override's host over ws(s)://, or the source's."""
        if self.paper_source_url:
            return "ws" + self.paper_source_url.removeprefix("http")
        return PAPER_SOURCES[self.paper_source][1]

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token.get_secret_value() and self.telegram_chat_id is not None)

    def secrets(self) -> list[str]:
        """Secret values to redact everywhere (logs, audit, messages)."""
        values = [self.api_key, self.api_secret, self.telegram_token, self.api_token]
        return [v.get_secret_value() for v in values if v.get_secret_value()]


def cross_field_problems(settings: Settings) -> list[str]:
    """Problems that involve more than one setting; each line names its variable."""
    problems: list[str] = []
    if settings.daily_loss_limit < settings.quote_amount:
        problems.append(
            f"{ENV_PREFIX}DAILY_LOSS_LIMIT: {settings.daily_loss_limit} is smaller than one "
            f"trade's quote amount ({ENV_PREFIX}QUOTE_AMOUNT={settings.quote_amount})"
        )
    if settings.mode in (Mode.TESTNET, Mode.LIVE) and not settings.has_keys:
        problems.append(
            f"{ENV_PREFIX}API_KEY: {settings.mode.value} mode needs {ENV_PREFIX}API_KEY "
            f"and {ENV_PREFIX}API_SECRET"
        )
    if settings.ranked_top is not None and settings.timeframe not in CADENCE_MINUTES:
        problems.append(
            f"{ENV_PREFIX}UNIVERSE: {settings.universe} needs a ranked timeframe; "
            f"{ENV_PREFIX}TIMEFRAME={settings.timeframe} is not one of "
            f"{', '.join(CADENCE_MINUTES)}"
        )
    if settings.mode is Mode.LIVE and not settings.live_confirm:
        problems.append(
            f"{ENV_PREFIX}LIVE_CONFIRM: live mode trades real money; set it to true to confirm"
        )
    return problems


class SettingsError(Exception):
    """Invalid settings; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _format_validation_error(error: ValidationError) -> list[str]:
    lines: list[str] = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ()) if not isinstance(part, int)]
        message = str(item.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        if loc:
            lines.append(f"{ENV_PREFIX}{loc[0].upper()}: {message}")
        else:
            lines.extend(message.splitlines())
    return lines


def setting_names() -> dict[str, str]:
    """Variable name → field name, for every setting."""
    return {f"{ENV_PREFIX}{name.upper()}": name for name in Settings.model_fields}


def unknown_variables(environ: dict[str, str] | None = None, where: str = "") -> list[str]:
    """`THUNES_*` variables that name no setting: almost always a typo worth refusing."""
    env = os.environ if environ is None else environ
    known = setting_names()
    unknown = (n for n in env if n.upper().startswith(ENV_PREFIX) and n.upper() not in known)
    suffix = f" in {where}" if where else ""
    return sorted(f"{name}: unknown setting{suffix}" for name in unknown)


def read_env_file(path: str | Path) -> dict[str, str]:
    """The variables a settings file sets, parsed by python-dotenv as pydantic-settings does."""
    from dotenv import dotenv_values

    return {k: v or "" for k, v in dotenv_values(path, encoding="utf-8").items()}


def env_file_problems(env_file: str | Path | None, required: bool) -> tuple[Path | None, list[str]]:
    """The settings file to read (None: none) and its problems: missing when named, unreadable,
    or a `THUNES_*` name that is no setting (refused as strictly as in the environment)."""
    if env_file is None:
        return None, []
    path = Path(env_file)
    if not path.exists():
        return None, [f"--env-file {path}: no such file"] if required else []
    try:
        values = read_env_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"--env-file {path}: cannot read it: {exc}"]
    return path, unknown_variables(values, where=str(path))


def _source_error_lines(error: SourceError) -> list[str]:
    """A value pydantic-settings could not even decode, as one line naming the variable."""
    match = re.search(r'field "(\w+)"', str(error))
    name = f"{ENV_PREFIX}{match.group(1).upper()}" if match else "settings"
    return [f"{name}: cannot parse the value"]


def load_settings(
    env_file: str | Path | None = DEFAULT_ENV_FILE,
    *,
    require_env_file: bool = False,
    **overrides: Any,
) -> Settings:
    """Build settings or raise `SettingsError` listing every problem at once.

    `env_file` None reads no file; a missing file is a problem only if `require_env_file`
    (the operator named it), since a fresh clone has no `.env`.
    """
    path, problems = env_file_problems(env_file, require_env_file)
    problems = unknown_variables() + problems
    try:
        settings = Settings(_env_file=path, **overrides)
    except ValidationError as error:
        problems.extend(_format_validation_error(error))
        raise SettingsError(problems) from None
    except SourceError as error:
        raise SettingsError(problems + _source_error_lines(error)) from None
    if problems:
        raise SettingsError(problems)
    return settings
