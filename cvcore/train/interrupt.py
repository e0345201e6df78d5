"""Ctrl-C during training: finish the current step, save a checkpoint, then stop."""
from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C (or a KeyboardInterrupt); ``checkpoint`` is where it was saved, if anywhere."""

    def __init__(self, message: str, checkpoint: str | None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint

    def __str__(self) -> str:
        return str(self.args[0])


class StopRequest:
    """While active, the first Ctrl-C only sets :attr:`requested`; a second one interrupts at once.

    The engine checks the flag between steps, so the checkpoint it then saves
    never holds a half-applied update. Outside the main thread (where Python
    cannot install signal handlers) Ctrl-C raises as usual.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)
        print("\nCtrl-C: saving a checkpoint after this step (press Ctrl-C again to stop at once).", file=sys.stderr)
