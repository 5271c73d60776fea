"""Source texts of user strategy files, good and broken, for the loader's tests.

Each broken source marks the line its error must name with `# <- here`.
"""

from __future__ import annotations

from pathlib import Path

GOOD = """
from typing import ClassVar

import numpy as np

from thunes.strategy import ParamRange, Strategy


class Breakout(Strategy):
    name: ClassVar[str] = "breakout"
    defaults: ClassVar[dict] = {"window": 20, "stop_loss_pct": 0.02}
    param_space: ClassVar[dict] = {
        "window": ParamRange(10, 40, 10),
        "stop_loss_pct": ParamRange(0.01, 0.03, 0.01, is_int=False),
    }

    @property
    def warmup_bars(self) -> int:
        return max(int(self.params["window"]) + 1, 21)

    def _compute(self, bars):
        mean = bars.sma("close", int(self.params["window"]))
        entries = np.zeros(len(bars), dtype=bool)
        entries[1:] = (bars.close[1:] > mean[1:]) & (bars.close[:-1] <= mean[:-1])
        return entries, bars.close < mean, float(self.params["stop_loss_pct"])
"""

BROKEN = {
    "syntax_error": "import numpy as np\n\ndef broken(:  # <- here\n    pass\n",
    "raises_on_import": "import numpy as np\nvalue = 1\nraise RuntimeError('boom')  # <- here\n",
    "wrong_base": (
        "from typing import ClassVar\n\n\nclass Breakout:  # <- here\n"
        "    name: ClassVar[str] = 'breakout'\n"
    ),
    "low_above_high": GOOD.replace(
        '"window": ParamRange(10, 40, 10),', '"window": ParamRange(40, 10, 10),  # <- here'
    ),
    "default_outside_range": GOOD.replace(
        '"window": ParamRange(10, 40, 10),', '"window": ParamRange(30, 40, 10),  # <- here'
    ),
    "missing_compute": GOOD.replace(
        "class Breakout(Strategy):", "class Breakout(Strategy):  # <- here"
    ).replace("def _compute(self, bars):", "def compute(self, bars):"),
    "compute_crashes": GOOD.replace(
        'mean = bars.sma("close", int(self.params["window"]))',
        'mean = bars.sma("close", int(self.params["window"])) / undefined_name  # <- here',
    ),
    "compute_wrong_shape": GOOD.replace(
        "    def _compute(self, bars):", "    def _compute(self, bars):  # <- here"
    ).replace(
        'return entries, bars.close < mean, float(self.params["stop_loss_pct"])',
        "return entries[:-1], bars.close < mean, None",
    ),
}


def marked_line(source: str) -> int:
    """The 1-based line carrying `# <- here`."""
    return next(i for i, line in enumerate(source.splitlines(), 1) if "# <- here" in line)


def write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path
