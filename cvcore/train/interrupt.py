"""Ctrl-C or SIGTERM during training: finish the current step, save a checkpoint, then stop."""
from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C, SIGTERM or a KeyboardInterrupt; ``checkpoint`` is where it was saved, if anywhere.

    ``signal`` is the signal that stopped it (``SIGINT`` also for a plain KeyboardInterrupt).
    """

    def __init__(self, message: str, checkpoint: str | None, signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.checkpoint, self.signal = checkpoint, signal.Signals(signum)

    def __str__(self) -> str:
        return str(self.args[0])


class StopRequest:
    """While active, the first Ctrl-C or SIGTERM only sets :attr:`requested`; a second one acts at once.

    SIGTERM is what ``kill``, schedulers (SLURM, Kubernetes) and ``timeout`` send
    before they kill a job. The engine checks the flag between steps, so the
    checkpoint it then saves never holds a half-applied update. Outside the main
    thread (where Python cannot install signal handlers) the signals act as usual.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: signal.Signals | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._handle) for signum in self.SIGNALS}
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = signal.Signals(signum)
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        name = "Ctrl-C" if signum == signal.SIGINT else self.requested.name
        print(f"\n{name}: saving a checkpoint after this step (a second signal stops at once).", file=sys.stderr)
