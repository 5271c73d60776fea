"""THUNES: a trading daemon for Binance spot."""

__version__ = "0.1.0"
