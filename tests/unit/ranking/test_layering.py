"""The ranking core is pure: importing it loads no exchange, store, network or Telegram code."""

from __future__ import annotations

import subprocess
import sys

PURE = ("universe", "features", "score", "rank", "types", "export")
FORBIDDEN = ("binance", "aiohttp", "sqlalchemy", "telegram", "thunes.exchange", "thunes.store")


def test_the_pure_ranking_modules_import_no_io_module() -> None:
    imports = "; ".join(f"import thunes.ranking.{name}" for name in PURE)
    probe = (
        f"import sys; {imports}; "
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
