"""Progress on a terminal is a bar; in a log file it is a plain line every few seconds, with the same numbers."""
from __future__ import annotations

import io

from tqdm import tqdm

from cvcore.progress import PlainProgress, progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_and_a_log_file_plain_lines(monkeypatch):
    assert isinstance(progress_bar(range(3), file=FakeTerminal()), tqdm)
    log = io.StringIO()
    clock = iter([0.0, 1.0, 11.0, 11.0, 12.0, 13.0, 14.0, 26.0])  # start, each update, each line written
    monkeypatch.setattr("cvcore.progress.time.monotonic", lambda: next(clock))
    reporter = progress_bar(range(5), total=5, desc="epoch 1/2", unit="batch", file=log, interval=10.0)
    assert isinstance(reporter, PlainProgress)
    for _ in reporter:
        reporter.set_postfix(loss="0.4321")
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0] == "epoch 1/2: 2/5 batch (40%), 0.2 batch/s, 11 s, loss 0.4321"  # once 10 s have passed, not before
    assert lines[-1] == "epoch 1/2: 5/5 batch (100%), 0.2 batch/s, 26 s in all, loss 0.4321"
    assert len(lines) == 2


def test_a_disabled_reporter_writes_nothing():
    log = io.StringIO()
    assert list(progress_bar(range(3), file=log, disable=True)) == [0, 1, 2]
    assert log.getvalue() == ""
