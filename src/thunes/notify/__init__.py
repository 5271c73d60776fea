"""Telegram: alerts (`TelegramNotifier`), commands (`TelegramCommands`) and doctor checks.

The only package that imports python-telegram-bot. What is said comes from `thunes.reports`,
so Telegram, the CLI and `/health` tell the same story. Missing Telegram settings mean alerts
and commands are off (`from_settings` returns None after one log line), never an error.
"""
