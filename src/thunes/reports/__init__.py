"""Transport-neutral reports: what THUNES tells its operator, for Telegram, the CLI and /health."""
