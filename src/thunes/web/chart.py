"""The equity curve as inline SVG, drawn on the server (no script, no external asset).

x is the trade number (0 before the first close), y the cumulative realised PnL after it; a
dashed line marks zero. The SVG scales to its box (`viewBox`), so the page decides the size.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from thunes.reports.format import fmt_money
from thunes.reports.ledger import EquityPoint

WIDTH, HEIGHT, PAD = 600, 200, 12
LINE = "#2b6cb0"
ZERO_LINE = "#999999"


def equity_svg(points: Sequence[EquityPoint]) -> str:
    """An `<svg>` element; with no closed trade it says so instead of drawing."""
    if not points:
        return (f'<svg id="equity-chart" class="chart empty" viewBox="0 0 {WIDTH} {HEIGHT}" '
                f'role="img" aria-label="no closed trades yet"><text x="{WIDTH // 2}" '
                f'y="{HEIGHT // 2}" text-anchor="middle">no closed trades yet</text></svg>')
    values = [Decimal(0), *(p.cumulative_pnl for p in points)]  # the curve starts at zero
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)

    def y(value: Decimal) -> float:
        return round(PAD + float((high - value) / span) * (HEIGHT - 2 * PAD), 2)

    step = (WIDTH - 2 * PAD) / (len(values) - 1)
    coords = [f"{round(PAD + i * step, 2)},{y(v)}" for i, v in enumerate(values)]
    path = "M" + " L".join(coords)
    last = points[-1].cumulative_pnl
    label = escape(f"equity: {len(points)} closed trade(s), {fmt_money(last, signed=True)}")
    zero = y(Decimal(0))
    return (
        f'<svg id="equity-chart" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{label}" data-points="{len(values)}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
        f'<line x1="{PAD}" y1="{zero}" x2="{WIDTH - PAD}" y2="{zero}" stroke="{ZERO_LINE}" '
        f'stroke-dasharray="4 4" stroke-width="1"/>'
        f'<path d="{path}" fill="none" stroke="{LINE}" stroke-width="3" '
        f'stroke-linejoin="round"/></svg>'
    )
