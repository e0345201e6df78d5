"""CPU checks: VNNI/AMX read from the CPU flags, a warning where INT8 will be slow, an error without oneDNN."""
from __future__ import annotations

import warnings

import pytest

from cvcore.errors import CvcoreError
from cvcore_int8_vnni import machine


def test_int8_support_is_read_from_the_cpu_flags():
    support = machine.int8_support({"fpu", "sse", "avx512f", "avx512_vnni", "amx_int8"})
    assert support == machine.Int8Support(avx512=True, vnni=True, amx=True)
    assert support.summary == "AVX-512, VNNI, AMX-INT8"


def test_client_vnni_counts_and_plain_avx2_warns():
    assert machine.int8_support({"avx2", "avx_vnni"}).vnni
    old = machine.int8_support({"avx2", "fma"})
    assert not old.vnni and not old.amx and old.summary == "none of AVX-512, VNNI, AMX"
    with pytest.warns(machine.SlowInt8Warning, match="no VNNI or AMX"):
        machine.warn_if_slow(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        machine.warn_if_slow(machine.int8_support({"avx512f", "avx512_vnni"}))


def test_an_mxnet_without_onednn_is_a_clear_error(monkeypatch):
    machine.require_onednn()  # the installed build has it
    monkeypatch.setattr(machine, "has_onednn", lambda: False)
    with pytest.raises(CvcoreError, match="built without oneDNN"):
        machine.require_onednn()
