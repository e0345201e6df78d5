"""The contract of datasets, checked on a synthesized set or files the plugin author gives."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

from ..errors import CvcoreError
from ..plugins import get


def check_dataset(name: str, root: str | os.PathLike | None = None, *, split: str = "train",
                  synthesize: Mapping[str, Any] | None = None, **options: Any) -> int:
    """Dataset ``name`` reads ``split`` of ``root`` into indexable samples, and a missing root is an error naming it.

    Without ``root`` the dataset's own ``meta["synthesize"]`` writes a set
    first (with the ``synthesize`` options). Every sample is a tuple; indexing
    past the end raises ``IndexError``. Returns the number of samples.
    """
    component = get("dataset", name)
    what = f"dataset {name!r}"
    with tempfile.TemporaryDirectory(prefix="cvcore-check-") as tmp:
        if root is None:
            writer = component.meta.get("synthesize")
            assert writer is not None, f"{what} has no meta['synthesize']; give root= (a folder in its format)"
            root = Path(tmp) / "synthesized"
            writer(root, **dict(synthesize or {}))
        dataset = component.build(root=root, split=split, **options)
        count = len(dataset)
        assert count > 0, f"{what}: split {split!r} of {root} has no samples"
        for index in {0, count - 1}:
            sample = dataset[index]
            assert isinstance(sample, tuple) and sample, f"{what}: sample {index} is a {type(sample).__name__}, not a tuple"
        try:
            dataset[count]
        except IndexError:
            pass
        else:
            raise AssertionError(f"{what}: index {count} (past the end) gave a sample instead of IndexError")
        missing = Path(tmp) / "no-such-folder"
        try:
            component.build(root=missing, split=split, **options)
        except CvcoreError as exc:
            assert str(missing) in str(exc), f"{what}: the error for a missing root does not name it: {exc}"
        else:
            raise AssertionError(f"{what}: a root that does not exist ({missing}) was accepted")
    return count
