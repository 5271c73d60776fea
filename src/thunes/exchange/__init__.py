"""THUNES exchange: the boundary to Binance (client, filters, rate limit, breakers, time sync).

Only this package imports python-binance. Callers use `build_gateway(...)` and the
`ExchangeGateway` protocol from `thunes.exchange.types`.
"""

from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.factory import build_gateway

__all__ = ["BinanceGateway", "CircuitBreakerMonitor", "build_gateway"]
