"""Files written whole or not at all, with the permissions the user's umask gives a new file."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .errors import CvcoreError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it replaces ``path``, on failure it is removed.

    The temporary file ends in ``suffix`` (default ``path``'s), for writers that choose the format by it.
    Temporary files are created private (0600); the finished file gets the mode
    of any new file (``0666`` less the umask), as a plain ``open`` would give it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=suffix or path.suffix or ".tmp")
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | os.PathLike, data: Any, **dump_options: Any) -> Path:
    """Write ``data`` as JSON to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(data, **dump_options))


def require_writable(directory: str | os.PathLike) -> Path:
    """Create ``directory`` if needed and prove that files can be written in it; a :class:`CvcoreError` says why not."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".cvcore-write-test-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise CvcoreError(f"Cannot write into {directory}: {exc.strerror or exc}. Choose another output folder.") from exc
    return directory
