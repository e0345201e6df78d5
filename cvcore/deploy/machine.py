"""The machine a measurement was taken on: CPU model and instruction sets, cores, threads and library versions.

Benchmarks write it beside every figure (:func:`fingerprint`), because these
machines change between sessions and a number means little without its CPU.
"""
from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")
FLAGS_OF_INTEREST = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
"""The instruction sets that decide how fast FP32, BF16 and INT8 inference run."""
LIBRARIES = ("cvcore", "mxnet", "numpy", "opencv-python-headless", "openvino", "nncf", "onnx", "pycocotools")


def cpu_fields(cpuinfo: Path = CPUINFO) -> dict[str, str]:
    """The first CPU's ``key: value`` lines of ``cpuinfo`` (empty where the file does not exist)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the end of the first processor's block
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags(cpuinfo: Path = CPUINFO) -> set[str]:
    """The ``flags`` of the first CPU in ``cpuinfo`` (empty where the file does not exist)."""
    return set(cpu_fields(cpuinfo).get("flags", "").split())


def fingerprint(cpuinfo: Path = CPUINFO) -> dict[str, Any]:
    """CPU model, its relevant instruction sets, usable cores, OMP_NUM_THREADS, library versions and the UTC time."""
    from .._environment import usable_cores

    fields = cpu_fields(cpuinfo)
    flags = set(fields.get("flags", "").split())
    versions = {}
    for library in LIBRARIES:
        try:
            versions[library] = metadata.version(library)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": fields.get("model name") or platform.processor() or platform.machine(),
        "cpu_family_model": [fields.get("cpu family"), fields.get("model")],  # tells CPUs apart that a VM names alike
        "cpu_flags": [flag for flag in FLAGS_OF_INTEREST if flag in flags],
        "cores": usable_cores(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "python": platform.python_version(),
        "libraries": versions,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
