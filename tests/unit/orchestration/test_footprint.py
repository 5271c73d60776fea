"""The embedded exchange's tick rate follows the replay speed within fixed real-time bounds."""

from __future__ import annotations

import pytest

from thunes.orchestration.footprint import stream_interval


@pytest.mark.parametrize(
    ("speed", "interval"),
    [(0.5, 1.0), (1.0, 1.0), (2.0, 0.5), (5.0, 0.2), (10.0, 0.1), (400.0, 0.1), (3600.0, 0.1)],
)
def test_at_most_one_tick_per_simulated_second_within_real_bounds(
    speed: float, interval: float
) -> None:
    assert stream_interval(speed) == pytest.approx(interval)
