"""The machine fingerprint benchmarks write beside every figure."""
from __future__ import annotations

import datetime
import json

from cvcore.deploy import machine
from cvcore.deploy.benchmark import write_report

CPUINFO = ("processor\t: 0\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n"
           "flags\t\t: fpu sse avx2 avx512f avx512_vnni avx512_bf16\n\n"
           "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n")


def test_the_first_cpus_fields_and_flags_are_read(tmp_path):
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    assert machine.cpu_fields(tmp_path / "cpuinfo")["model name"] == "AMD EPYC 9R14 96-Core Processor"
    assert machine.cpu_flags(tmp_path / "cpuinfo") == {"fpu", "sse", "avx2", "avx512f", "avx512_vnni", "avx512_bf16"}
    assert machine.cpu_flags(tmp_path / "missing") == set()


def test_the_fingerprint_names_the_cpu_its_instruction_sets_threads_and_libraries(tmp_path, monkeypatch):
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    found = machine.fingerprint(tmp_path / "cpuinfo")
    assert found["cpu"] == "AMD EPYC 9R14 96-Core Processor" and found["cpu_family_model"] == ["25", "17"]
    assert found["cpu_flags"] == ["avx2", "avx512f", "avx512_vnni", "avx512_bf16"]  # AMX absent: not claimed
    assert found["omp_num_threads"] == "2" and found["cores"] >= 1
    assert {"cvcore", "mxnet", "numpy"} <= set(found["libraries"])
    assert datetime.datetime.strptime(found["date"], "%Y-%m-%dT%H:%M:%SZ")
    report = json.loads(write_report(tmp_path / "r.json", "demo", value=1.5).read_text())
    assert report["benchmark"] == "demo" and report["machine"]["cpu"] == machine.fingerprint()["cpu"] and report["value"] == 1.5
