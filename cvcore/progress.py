"""Progress on long work: a tqdm bar on a terminal, plain lines every few seconds anywhere else.

A bar redraws itself with carriage returns, which a terminal overwrites but a log
file (CI, ``nohup``, ``2> log``) keeps, thousands of them. When the stream is not a
terminal, :func:`progress_bar` writes one ordinary line every ``interval`` seconds
instead, with the same numbers, and one when the work ends.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Iterable, Iterator, TextIO

from tqdm import tqdm

PLAIN_INTERVAL = 10.0
"""Seconds between two plain progress lines."""


def progress_bar(iterable: Iterable[Any] | None = None, *, total: int | None = None, initial: int = 0, desc: str = "",
                 unit: str = "it", unit_scale: bool = False, leave: bool = True, disable: bool = False,
                 file: TextIO | None = None, interval: float = PLAIN_INTERVAL) -> Any:
    """A progress reporter over ``iterable`` (or updated by hand): tqdm's bar on a terminal, :class:`PlainProgress` elsewhere.

    ``initial`` is the count already done (a resumed epoch's batches).
    """
    stream = file if file is not None else sys.stderr
    if disable or _is_terminal(stream):
        return tqdm(iterable, total=total, initial=initial, desc=desc, unit=unit, unit_scale=unit_scale, leave=leave,
                    disable=disable, file=stream)
    return PlainProgress(iterable, total=total, initial=initial, desc=desc, unit=unit, unit_scale=unit_scale, stream=stream,
                         interval=interval)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class PlainProgress:
    """The part of tqdm's interface cvcore uses, writing ``desc: n/total unit (p%), rate unit/s, postfix`` lines."""

    def __init__(self, iterable: Iterable[Any] | None = None, *, total: int | None = None, initial: int = 0, desc: str = "",
                 unit: str = "it", unit_scale: bool = False, stream: TextIO = sys.stderr, interval: float = PLAIN_INTERVAL) -> None:
        self.iterable, self.total, self.desc, self.unit, self.unit_scale = iterable, total, desc, unit, unit_scale
        self.stream, self.interval = stream, interval
        self.n, self.done_before, self.postfix = initial, initial, ""
        self.started = self.last_line = time.monotonic()
        self.closed = False

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable:
            yield item
            self.update(1)
        self.close()

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last_line >= self.interval:
            self.last_line = now
            self._write()

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfix = ", ".join(f"{key} {value}" for key, value in values.items())

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._write(done=True)

    def _write(self, done: bool = False) -> None:
        seconds = max(time.monotonic() - self.started, 1e-9)
        count = self._amount(self.n)
        of = f"/{self._amount(self.total)}" if self.total else ""
        share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        rate = f"{self._amount((self.n - self.done_before) / seconds)} {self.unit}/s"
        parts = [f"{self.desc}: {count}{of} {self.unit}{share}", rate, f"{seconds:.0f} s" + (" in all" if done else "")]
        print(", ".join(parts + ([self.postfix] if self.postfix else [])), file=self.stream, flush=True)

    def _amount(self, value: float) -> str:
        if not self.unit_scale:
            return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
        for prefix, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
            if value >= size:
                return f"{value / size:.1f}{prefix}"
        return f"{value:.0f}"
