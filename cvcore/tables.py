"""Plain-text tables and counts for terminals: what the CLI, the demos and the benchmarks print."""
from __future__ import annotations

import shutil
import textwrap
from typing import Any, Sequence


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, width: int | None = None, last: str = "wrap") -> str:
    """A plain-text table with aligned columns.

    With ``width`` (a terminal's columns) the last column is fitted into what the
    others leave: wrapped onto indented lines (``last="wrap"``) or cut with an
    ellipsis (``last="cut"``).
    """
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if width is not None:
        room = max(20, width - sum(widths[:-1]) - 2 * (len(headers) - 1))
        widths[-1] = min(widths[-1], room)
    lines = []
    for index, row in enumerate(cells):
        lead = "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths))
        indent = " " * (len(lead) + 2 if lead else 0)
        last_cell = row[-1]
        if len(last_cell) <= widths[-1]:
            pieces = [last_cell]
        elif last == "cut":
            pieces = [last_cell[: widths[-1] - 1] + "\u2026"]
        else:
            pieces = textwrap.wrap(last_cell, widths[-1], break_on_hyphens=False) or [""]
        lines.append(((lead + "  ") if lead else "") + pieces[0])
        lines.extend(indent + piece for piece in pieces[1:])
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def terminal_width() -> int:
    """The terminal's columns (``COLUMNS`` when set; 100 when output is not a terminal)."""
    return shutil.get_terminal_size((100, 24)).columns


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "es" if noun.endswith("ss") else "s")
