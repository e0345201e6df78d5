"""Where the processes of a distributed job run: host files, SLURM node lists, and each process's role and host.

A parameter-server job has one scheduler, ``servers`` servers and ``workers``
workers. :func:`place` puts the scheduler on the first host, spreads the
servers over the hosts and fills each host's worker slots in order.
"""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

ROLES = ("scheduler", "server", "worker")
_HOST_LINE = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)(?::(?P<colon>\d+)|\s+slots\s*=\s*(?P<slots>\d+))?$")
_NODE_RANGE = re.compile(r"([^,\[]+)(?:\[([^\]]+)\])?(?:,|$)")


@dataclass(frozen=True)
class Host:
    """A machine of the job and how many workers it takes."""

    name: str
    slots: int = 1


@dataclass(frozen=True)
class Process:
    """One process of the job: its role, its index among that role's processes, and its host."""

    role: str
    index: int
    host: str

    def __str__(self) -> str:
        return self.role if self.role == "scheduler" else f"{self.role} {self.index}"


def read_hostfile(path: str | os.PathLike) -> list[Host]:
    """Hosts from ``path``: one per line, ``name``, ``name slots=N`` or ``name:N``; ``#`` starts a comment."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read the host file {path}: {exc.strerror or exc}.") from exc
    hosts = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = _HOST_LINE.match(text)
        slots = match and (match["colon"] or match["slots"])
        if match is None or (slots is not None and int(slots) < 1):
            raise ConfigError(f"{path}:{number}: {line.strip()!r} is not a host line: write 'NAME', 'NAME slots=N' or 'NAME:N' (N >= 1).")
        hosts.append(Host(match["name"], int(slots) if slots else 1))
    if not hosts:
        raise ConfigError(f"The host file {path} names no host.")
    return hosts


def expand_nodelist(nodelist: str) -> list[str]:
    """SLURM's compact node list (``node[01-03,07],gpu5``) as host names, in order."""
    names = []
    for prefix, ranges in _NODE_RANGE.findall(nodelist.strip()):
        if not ranges:
            names.append(prefix)
            continue
        for part in ranges.split(","):
            first, _, last = part.partition("-")
            if not first.isdigit() or (last and not last.isdigit()):
                raise ConfigError(f"SLURM node list {nodelist!r}: cannot read the range {part!r}.")
            names += [f"{prefix}{number:0{len(first)}d}" for number in range(int(first), int(last or first) + 1)]
    if not names:
        raise ConfigError(f"SLURM node list {nodelist!r} names no node.")
    return names


def place(hosts: list[Host], workers: int, servers: int) -> list[Process]:
    """The scheduler on the first host, servers round-robin over the hosts, workers filling each host's slots in order."""
    if workers < 1 or servers < 1:
        raise ConfigError(f"Need at least one worker and one server, got workers={workers}, servers={servers}.")
    slots = sum(host.slots for host in hosts)
    if workers > slots:
        raise ConfigError(f"{workers} workers do not fit the {slots} worker slots of {len(hosts)} hosts: "
                          "give hosts more slots ('NAME slots=N' in the host file) or start fewer workers.")
    processes = [Process("scheduler", 0, hosts[0].name)]
    processes += [Process("server", index, hosts[index % len(hosts)].name) for index in range(servers)]
    worker_hosts = [host.name for host in hosts for _ in range(host.slots)]
    processes += [Process("worker", rank, worker_hosts[rank]) for rank in range(workers)]
    return processes


def address(host: str) -> str:
    """The IPv4 address of ``host`` (what the DMLC variables carry)."""
    try:
        return socket.gethostbyname(host)
    except OSError as exc:
        raise ConfigError(f"Cannot resolve the host {host!r}: {exc}.") from exc
