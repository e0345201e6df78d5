"""Small but real datasets, written in the formats users' data comes in.

Each module writes one kind to disk so that demos, tests and benchmarks read it
back through the same loaders a user's data goes through:

- :mod:`cvcore.data.synthetic.classification`: textured shapes on cluttered
  backgrounds as an image folder (``cvcore data synth classification DIR``).

Plugins add their own kinds (``cvcore data synth keypoints DIR`` comes with cvcore-pose).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

from ...errors import ConfigError


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
