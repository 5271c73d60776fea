"""Build a `BinanceGateway` for the configured mode from settings (called by the app)."""

from __future__ import annotations

from thunes.clock import Clock
from thunes.config import Mode, Settings
from thunes.events import EventBus
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import BanStore, RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync

SIM_CREDENTIALS = ("sim-key", "sim-secret")


async def build_gateway(
    settings: Settings,
    clock: Clock,
    events: EventBus | None = None,
    api_url: str | None = None,
    *,
    retry: RetryPolicy | None = None,
    request_timeout: float = 10.0,
    wire_clock: Clock | None = None,
    ban_store: BanStore | None = None,
) -> BinanceGateway:
    """Point at the simulator (`api_url` given), testnet or live according to `settings.mode`.

    Testnet goes to `settings.testnet_url` when that is set (a Binance-compatible local server).

    Sends nothing: the first request (or `start()`) happens when the caller wants it.
    `clock` is the exchange's notion of now (simulated time in `sim`): it stamps signed
    requests, dates klines and events, and times the breakers. `wire_clock` (default `clock`)
    is the time the network lives in: the exchange counts weight per real minute and
    Retry-After and bans are real seconds, so in `sim` mode (where `clock` runs faster than
    real time) it must be the wall clock; read backoff sleeps on it too. `ban_store` keeps a
    418 ban's end across restarts (the composition root provides it over the state database).
    """
    wire = wire_clock or clock
    key = settings.api_key.get_secret_value()
    secret = settings.api_secret.get_secret_value()
    if settings.mode is Mode.SIM:
        if api_url is None:
            raise ValueError("sim mode needs the simulator's api_url")
        if not (key and secret):
            key, secret = SIM_CREDENTIALS
    if settings.mode is Mode.PAPER and api_url is None:
        # no paper exchange given (a CLI reading market data): the public source, keyless
        key, secret, api_url = "", "", settings.paper_rest_url + "/api"
    if api_url is None:
        api_url = settings.testnet_api_url  # testnet pointed elsewhere (a local simulator)
    client = make_client(
        key,
        secret,
        api_url=api_url,
        testnet=settings.mode is Mode.TESTNET,
        request_timeout=request_timeout,
    )
    limiter = RateLimiter(
        wire,
        weight_limit=settings.rest_weight_limit,
        margin=settings.rest_weight_margin,
        ban_store=ban_store,
    )
    breakers = CircuitBreakerMonitor(
        clock,
        fail_max=settings.breaker_fail_max,
        reset_timeout=settings.breaker_reset_seconds,
        events=events,
    )
    return BinanceGateway(
        client,
        clock,
        limiter,
        breakers,
        TimeSync(clock),
        retry or RetryPolicy(sleep=wire.sleep),
        events,
        wire_clock=wire,
    )
