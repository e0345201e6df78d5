"""Small but real datasets, written in the formats users' data comes in.

Each module writes one kind to disk so that demos, tests and benchmarks read it
back through the same loaders a user's data goes through:

- :mod:`cvcore.data.synthetic.classification`: textured shapes on cluttered
  backgrounds as an image folder (``cvcore data synth classification DIR``).

Plugins add their own kinds (``cvcore data synth keypoints DIR`` comes with cvcore-pose).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ...errors import ConfigError

RECORD = "synthesized.json"
"""The file under a synthetic dataset's root that records what was asked for (see :func:`synthesize_once`)."""


def prepare_output(root: Path, kind: str, folders: Iterable[str], overwrite: bool) -> None:
    """Refuse a non-empty ``root`` unless ``overwrite``; then clear the ``folders`` a synthesizer writes."""
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise ConfigError(
                f"{root} is not empty; choose a new directory or pass overwrite=true "
                f"(cvcore data synth {kind} {root} --set overwrite=true)."
            )
        for folder in folders:
            shutil.rmtree(root / folder, ignore_errors=True)


def synthesize_once(root: str | Path, params: Mapping[str, Any], write: Callable[[], Any]) -> Path:
    """Run ``write()`` (which fills ``root`` as ``params`` say) unless ``root`` already holds exactly that.

    ``params`` are recorded in ``root/synthesized.json`` once ``write`` has
    finished, so a dataset that was interrupted while being written, or that
    was written with other sizes or seeds, is written again instead of reused.
    """
    root = Path(root)
    wanted = json.loads(json.dumps(dict(params)))  # tuples become lists, as they come back from the file
    record = root / RECORD
    try:
        if json.loads(record.read_text()) == wanted:
            return root
    except (OSError, ValueError):
        pass  # never written, interrupted, or unreadable: write it
    record.unlink(missing_ok=True)
    write()
    record.write_text(json.dumps(wanted, indent=2) + "\n")
    return root
