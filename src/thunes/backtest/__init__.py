"""THUNES backtest."""
