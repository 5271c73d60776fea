"""The recorder writes a run's progress to its row at most every half second, and at stages."""

from __future__ import annotations

from datetime import UTC, datetime

from thunes.cli.optimize_record import PROGRESS_EVERY_S, Recorder

NOW = datetime(2024, 1, 1, tzinfo=UTC)


class _Rows:
    def __init__(self) -> None:
        self.writes: list[tuple[object, ...]] = []

    def start(self, run_id: int, now: datetime) -> None:
        self.writes.append(("start", run_id))

    def progress(self, run_id: int, stage: str, done: int, total: int) -> None:
        self.writes.append((stage, done, total))


def test_progress_is_written_at_most_every_half_second_and_at_the_end() -> None:
    rows, clock = _Rows(), [0.0]
    recorder = Recorder(rows, 7, 5, lambda: NOW, monotonic=lambda: clock[0])
    recorder.running()
    recorder.stage("sweep")
    for done, moment in ((1, 0.1), (2, 0.2), (3, PROGRESS_EVERY_S + 0.1), (4, 0.7), (5, 0.8)):
        clock[0] = moment
        recorder.progress(done, 5)
    recorder.stage("leaderboard")
    assert rows.writes == [
        ("start", 7),
        ("sweep", 0, 5),
        ("sweep", 3, 5),
        ("sweep", 5, 5),
        ("leaderboard", 5, 5),
    ]
