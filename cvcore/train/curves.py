"""Learning curves as a picture: training loss, learning rate and validation metrics of one run or several.

Read from the runs' ``train.jsonl`` (see :mod:`cvcore.train.logs`) and drawn
with matplotlib's Agg canvas (no display needed). ``cvcore train`` and the demos
write ``curves.png`` into their run folder; ``cvcore plot RUN [RUN ...]``
overlays runs for comparison.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import CvcoreError
from ..files import atomic_path
from .engine import LOG_FILE

CURVES_FILE = "curves.png"
HEADLINE_STYLES = ("-", "--", ":", "-.")
"""With several runs, each run's first validation metrics (as many as these line styles) are drawn."""


@dataclass
class Curves:
    """One run's logged numbers, with the step axis turned into (fractional) epochs."""

    name: str
    steps_per_epoch: int | None = None
    loss: list[tuple[float, float]] = field(default_factory=list)  # (epoch, mean loss of the last log_every steps)
    epoch_loss: list[tuple[float, float]] = field(default_factory=list)  # (epoch, the epoch's mean loss)
    lr: list[tuple[float, float]] = field(default_factory=list)
    metrics: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    minutes: list[tuple[float, float]] = field(default_factory=list)  # (epoch, training minutes so far)


def read_curves(run: str | os.PathLike) -> Curves:
    """The curves of a run folder (or of a ``train.jsonl`` file); a log that cannot be read is an error naming it."""
    path = Path(run)
    log = path / LOG_FILE if path.is_dir() else path
    if not log.is_file():
        raise CvcoreError(f"{path} has no training log ({LOG_FILE}); give a folder that `cvcore train --out` wrote.")
    curves = Curves(path.name if path.is_dir() else path.parent.name)
    minutes = 0.0
    for number, line in enumerate(log.read_text().splitlines(), 1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CvcoreError(f"{log}: line {number} is not JSON ({exc}).") from exc
        kind = event.get("event")
        if kind in ("start", "resume") and event.get("steps_per_epoch"):
            curves.steps_per_epoch = int(event["steps_per_epoch"])
        elif kind == "train" and curves.steps_per_epoch:
            at = event["step"] / curves.steps_per_epoch
            curves.loss.append((at, event["loss"]))
            curves.lr.append((at, event["lr"]))
        elif kind == "epoch":
            at = float(event["epoch"])
            curves.epoch_loss.append((at, event["loss"]))
            curves.lr.append((at, event["lr"]))
            minutes += event.get("seconds", 0.0) / 60
            curves.minutes.append((at, minutes))
            for key, value in event.items():
                if key.startswith("val_") and isinstance(value, (int, float)) and value != -1:  # -1: COCO's "no such objects"
                    curves.metrics.setdefault(key[4:], []).append((at, float(value)))
    curves.lr.sort()
    return curves


def plot_curves(runs: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Draw the runs' curves into one PNG at ``out``: loss, learning rate and validation metrics against epochs."""
    from matplotlib.figure import Figure

    every = [read_curves(run) for run in runs]
    if len({c.name for c in every}) < len(every):  # runs named alike (run/, run/): tell them apart by their paths
        for curves, run in zip(every, runs):
            curves.name = str(run)
    if not any(c.epoch_loss for c in every):
        raise CvcoreError(f"Nothing to draw: no finished epoch is logged in {', '.join(map(str, runs))}.")
    figure = Figure(figsize=(15, 4.6), dpi=100, layout="constrained")
    loss_axes, lr_axes, val_axes = figure.subplots(1, 3)
    colours = [f"C{index}" for index in range(10)]
    for index, curves in enumerate(every):
        colour, label = colours[index % 10], curves.name if len(every) > 1 else None
        _line(loss_axes, curves.loss, colour, None, linewidth=0.8, alpha=0.6)
        _line(loss_axes, curves.epoch_loss, colour, label, marker="o")
        _line(lr_axes, curves.lr, colour, label)
        metrics = list(curves.metrics.items())
        if len(every) > 1:  # a colour per run, a line style per metric: its first four metrics
            for style, (metric, points) in zip(HEADLINE_STYLES, metrics):
                _line(val_axes, points, colour, f"{curves.name}: {metric}", linestyle=style, marker="o")
        else:
            for number, (metric, points) in enumerate(metrics):
                _line(val_axes, points, colours[number % 10], metric, marker="o")
    loss_axes.set(title="training loss (line: logged steps; dots: epoch means)", xlabel="epoch",
                  yscale="log" if _spans_decades(every) else "linear")
    lr_axes.set(title="learning rate", xlabel="epoch")
    val_axes.set(title="validation", xlabel="epoch")
    first = every[0]
    if len(first.minutes) >= 2:  # a second axis: the first run's training minutes at each epoch
        epochs, minutes = zip(*first.minutes)
        import numpy as np

        top = val_axes.secondary_xaxis("top", functions=(lambda e: np.interp(e, epochs, minutes),
                                                          lambda m: np.interp(m, minutes, epochs)))
        top.set_xlabel(f"training minutes{' of ' + first.name if len(every) > 1 else ''}")
    for axes in (loss_axes, lr_axes, val_axes):
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize="small")
    trained = "; ".join(f"{c.name}: {c.minutes[-1][1]:.1f} min of training" for c in every if c.minutes)
    figure.suptitle(f"learning curves ({trained})" if trained else "learning curves")
    out = Path(out)
    with atomic_path(out, suffix=".png") as tmp:
        figure.savefig(tmp, format="png")
    return out


def _line(axes, points: list[tuple[float, float]], colour: str, label: str | None, **style) -> None:
    if points:
        if len(points) == 1:
            style.setdefault("marker", "o")  # one point draws no line
        x, y = zip(*points)
        axes.plot(x, y, color=colour, label=label, **style)


def _spans_decades(every: list[Curves]) -> bool:
    values = [y for c in every for _, y in (*c.loss, *c.epoch_loss) if y > 0]
    return bool(values) and max(values) / min(values) > 100
