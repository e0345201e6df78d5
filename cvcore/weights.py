"""The weight store: find, verify, download and load parameter files."""
from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from .errors import CvcoreError
from .files import atomic_path

if TYPE_CHECKING:
    from mxnet.gluon import Block

    from .zoo import WeightsSpec


class WeightsError(CvcoreError):
    """A parameter file is missing, corrupt or does not fit the network."""


def cvcore_home() -> Path:
    """``$CVCORE_HOME`` (default ``~/.cvcore``)."""
    return Path(os.environ.get("CVCORE_HOME", Path.home() / ".cvcore")).expanduser()


def models_dir() -> Path:
    """Where zoo parameter files are looked up and downloaded to."""
    return cvcore_home() / "models"


def sha1_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha1_matches(path: Path, sha1: str | None) -> bool:
    return sha1 is None or sha1_of(path).startswith(sha1.lower())


def fetch(spec: "WeightsSpec", model_name: str, root: str | os.PathLike | None = None) -> Path:
    """Path of a verified local copy of ``spec``'s file in ``root`` (default :func:`models_dir`), downloading it if needed."""
    target = (Path(root).expanduser() if root is not None else models_dir()) / spec.file_name
    if target.exists():
        if _sha1_matches(target, spec.sha1):
            return target
        raise WeightsError(
            f"{target} exists but its sha1 {sha1_of(target)[:8]}... does not match the zoo's "
            f"{spec.sha1} for {model_name!r}: the file is corrupt or for another model. Delete it or replace it."
        )
    if spec.url is None:
        raise WeightsError(
            f"No pretrained weights for {model_name!r} are on this machine and the zoo has no URL for them. "
            f"Put the file {spec.file_name!r} (sha1 {spec.sha1}) in {target.parent} or pass pretrained='path.params'."
        )
    try:
        _download(spec.url, target)
    except (urllib.error.URLError, OSError, zipfile.BadZipFile, KeyError) as exc:
        raise WeightsError(
            f"Could not download the weights of {model_name!r} from {spec.url} ({exc}). "
            f"Offline? Put the file {spec.file_name!r} (sha1 {spec.sha1}) in {target.parent} "
            f"(or set CVCORE_HOME), or pass pretrained='path.params'."
        ) from exc
    if not _sha1_matches(target, spec.sha1):
        bad = target.with_suffix(target.suffix + ".bad")
        target.replace(bad)
        raise WeightsError(f"Downloaded {spec.url} but its sha1 is not {spec.sha1}; kept it as {bad}.")
    return target


def _download(url: str, target: Path) -> None:
    """Download ``url`` to ``target`` atomically; a ``.zip`` URL is unpacked to its member of that name."""
    from .progress import progress_bar

    fetched = target.with_name(f"{target.name}.zip") if url.endswith(".zip") else target
    with urllib.request.urlopen(url, timeout=60) as response, atomic_path(fetched) as tmp, open(tmp, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with progress_bar(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                bar.update(len(block))
    if fetched == target:
        return
    try:
        with zipfile.ZipFile(fetched) as archive, archive.open(target.name) as member, atomic_path(target) as tmp:
            with open(tmp, "wb") as out:
                shutil.copyfileobj(member, out)
    finally:
        fetched.unlink(missing_ok=True)


def read_params(path: str | os.PathLike) -> dict:
    """The arrays of a ``.params`` file, with a clear error when it is not one."""
    import mxnet as mx

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Parameter file {path} does not exist.")
    try:
        loaded = mx.nd.load(str(path))
    except mx.base.MXNetError as exc:
        raise WeightsError(f"{path} is not an MXNet parameter file: {what_file_is(path)}.") from exc
    if isinstance(loaded, list) and not loaded:
        return {}  # MXNet reads a file of no arrays back as an empty list
    if not isinstance(loaded, dict):
        raise WeightsError(f"{path} holds a list of arrays without names, not a network's parameters.")
    # files written by HybridBlock.export prefix keys with arg:/aux:
    return {key.split(":", 1)[1] if key[:4] in ("arg:", "aux:") else key: value for key, value in loaded.items()}


MXNET_PARAMS_HEADER = (0x112).to_bytes(8, "little")
"""The first 8 bytes of every file ``mx.nd.save`` writes (its NDArray-list magic number)."""


def what_file_is(path: Path) -> str:
    """What a file that MXNet cannot read as parameters is, judged by its size and first bytes, and what to do."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(64)
    if size == 0:
        return "it is empty (0 bytes); an interrupted download or copy leaves such files: fetch it again"
    if head.startswith(MXNET_PARAMS_HEADER):
        return (f"it starts with MXNet's parameter-file header but cannot be read to its end ({size:,} bytes): "
                "it was cut short or damaged; fetch or save it again")
    if head.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(name.endswith("data.pkl") for name in names):
            return "it is a PyTorch checkpoint (torch.save); cvcore reads MXNet .params files (e.g. GluonCV's)"
        return (f"it is a zip archive ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}); GluonCV publishes its "
                ".params files zipped: unzip it and use the .params inside")
    if head[:1] == b"\x80":
        return "it is a Python pickle (a PyTorch or NumPy checkpoint?); cvcore reads MXNet .params files"
    if head.startswith(b"\x89HDF"):
        return "it is an HDF5 file (Keras or TensorFlow weights?); cvcore reads MXNet .params files"
    if head.startswith(b"\x93NUMPY"):
        return "it is a NumPy .npy array; save a network's parameters with net.save_parameters or mx.nd.save"
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype", b"<html", b"<?xml")):
        return "it is an HTML or XML page, as a failed download saves instead of the file: download it again"
    if text[:1] in (b"{", b"["):
        return "it is JSON text (a -symbol.json graph? its parameters are in the -0000.params file beside it)"
    return (f"its first bytes are {head[:8].hex(' ')}, where MXNet's parameter files start with "
            f"{MXNET_PARAMS_HEADER.hex(' ')} ({size:,} bytes)")


def non_finite(arrays: Mapping) -> list[str]:
    """The names of the ``arrays`` (NDArrays or NumPy arrays) holding a NaN or an infinity.

    Checked in NumPy, array by array: MXNet's ``isfinite`` costs several
    operator calls per array, 15x slower on a ResNet-18's 102 arrays.
    """
    return [name for name, array in arrays.items()
            if array is not None and array.size and not np.isfinite(_numpy(array)).all()]


def _numpy(array: Any) -> np.ndarray:
    return array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)


def describe_non_finite(names: list[str], total: int) -> str:
    """``"3 of 102 arrays hold NaN or infinite values (a, b, c)"``."""
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f"{len(names)} of {total} arrays hold NaN or infinite values ({shown})"


def rename(params: Mapping, name_map: Mapping[str, str]) -> dict:
    """Rename keys by prefix: ``{"fc.": "head.fc."}`` maps ``fc.weight`` to ``head.fc.weight``."""
    if not name_map:
        return dict(params)
    prefixes = sorted(name_map, key=len, reverse=True)
    out = {}
    for key, value in params.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = name_map[prefix] + key[len(prefix):]
                break
        out[key] = value
    return out


def load_into(net: "Block", path: str | os.PathLike, name_map: Mapping[str, str] | None = None, *, ctx=None) -> None:
    """Load a parameter file into ``net``; any mismatch raises one error listing all of it.

    ``name_map`` renames a published file's keys (GluonCV's) to ``net``'s; a file
    already in ``net``'s own names (a cvcore pipeline's) is taken as it is.
    """
    params = read_params(path)
    if set(params) != set(net._collect_params_with_prefix()):
        params = rename(params, name_map or {})
    assign(net, params, path, ctx=ctx)


def under(params: Mapping, prefix: str) -> dict:
    """The parameters named ``prefix...``, the prefix removed (``"backbone."`` picks a pipeline's backbone)."""
    return {name[len(prefix):]: value for name, value in params.items() if name.startswith(prefix)}


def assign(net: "Block", params: Mapping, source: str | os.PathLike, *, ctx=None) -> None:
    """Set every parameter of ``net`` from ``params`` (read from ``source``); any mismatch raises one error listing all of it."""
    import mxnet as mx

    ours = _check_names_and_shapes(net, params, source)
    _check_finite(params, source)
    ctx = ctx or mx.cpu()
    for name, param in ours.items():
        param._load_init(params[name], ctx, cast_dtype=True, dtype_source="current")


def check_fits(net: "Block", path: str | os.PathLike) -> None:
    """Raise :class:`WeightsError` naming ``path`` unless the file holds exactly ``net``'s parameters, finite and of their shapes."""
    params = read_params(path)
    _check_names_and_shapes(net, params, path)
    _check_finite(params, path)


def _check_names_and_shapes(net: "Block", params: Mapping, source: str | os.PathLike) -> dict:
    ours = net._collect_params_with_prefix()
    missing = sorted(set(ours) - set(params))
    unexpected = sorted(set(params) - set(ours))
    wrong = sorted(
        f"{name}: file {tuple(params[name].shape)} vs network {ours[name].shape}"
        for name in set(ours) & set(params)
        if not _shape_fits(ours[name].shape, params[name].shape)
    )
    if missing or unexpected or wrong:
        raise WeightsError(_mismatch_message(Path(source), missing, unexpected, wrong))
    return ours


def _check_finite(params: Mapping, source: str | os.PathLike) -> None:
    broken = non_finite(params)
    if broken:
        raise WeightsError(f"{source}: {describe_non_finite(broken, len(params))}. The model diverged when it was trained "
                           "and cannot give meaningful results; retrain it (lower lr, warmup, clip_gradient_norm).")


def _shape_fits(ours: tuple, theirs: tuple) -> bool:
    # 0 in our shape means "not inferred yet": any size is accepted there
    return len(ours) == len(theirs) and all(a == 0 or a == b for a, b in zip(ours, theirs))


def _mismatch_message(path: Path, missing: list, unexpected: list, wrong: list) -> str:
    def listing(title: str, items: list) -> str:
        shown = ", ".join(items[:8]) + (f", ... ({len(items) - 8} more)" if len(items) > 8 else "")
        return f"\n  {title} ({len(items)}): {shown}"

    message = f"{path} does not fit this network:"
    if missing:
        message += listing("missing from the file", missing)
    if unexpected:
        message += listing("in the file but not in the network", unexpected)
    if wrong:
        message += listing("wrong shape", wrong)
    return message + "\nIs it the parameter file of another model or another number of classes?"
