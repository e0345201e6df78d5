"""What this CPU offers for INT8: VNNI and AMX detection, and the oneDNN check for MXNet."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

from cvcore.deploy.machine import cpu_flags
from cvcore.deploy.transforms import has_onednn
from cvcore.errors import CvcoreError


class SlowInt8Warning(RuntimeWarning):
    """INT8 will run, but this CPU lacks the instructions that make it fast."""


@dataclass(frozen=True)
class Int8Support:
    """The CPU's INT8-relevant instruction sets (from the kernel's CPU flags)."""

    avx512: bool
    vnni: bool
    amx: bool

    @property
    def summary(self) -> str:
        found = [name for name, present in (("AVX-512", self.avx512), ("VNNI", self.vnni), ("AMX-INT8", self.amx)) if present]
        return ", ".join(found) or "none of AVX-512, VNNI, AMX"


def int8_support(flags: set[str] | None = None) -> Int8Support:
    """:class:`Int8Support` from CPU ``flags`` (default: this machine's)."""
    flags = cpu_flags() if flags is None else flags
    return Int8Support(
        avx512="avx512f" in flags,
        vnni=bool({"avx512_vnni", "avx_vnni", "avx512vnni"} & flags),
        amx="amx_int8" in flags,
    )


def warn_if_slow(support: Int8Support | None = None) -> Int8Support:
    """Warn (:class:`SlowInt8Warning`) when INT8 cannot beat FP32 by much here; returns what was found."""
    support = int8_support() if support is None else support
    if not support.vnni and not support.amx:
        warnings.warn(
            f"This CPU has no VNNI or AMX INT8 instructions ({support.summary}): INT8 inference will run, "
            "but expect little speedup over FP32 (VNNI gives about 3-4x on ResNets).",
            SlowInt8Warning,
            stacklevel=3,
        )
    return support


def require_onednn() -> None:
    """Raise when the installed MXNet has no oneDNN (MKLDNN) kernels, which its INT8 path needs."""
    if not has_onednn():
        raise CvcoreError(
            "The installed mxnet was built without oneDNN (MKLDNN), so it cannot run INT8 on a CPU. "
            "Install the oneDNN build (pip install mxnet==1.9.1, which includes it) or use backend=\"openvino\"."
        )
