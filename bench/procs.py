"""Process accounting for the benchmarks, read from /proc (Linux): CPU seconds and memory of
groups of processes, found by an environment tag so forked, spawned and daemonised children
(gunicorn workers, RQ scheduler/cron, the embedded redis-server) are all counted."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def tagged(tag: str) -> list[int]:
    """Processes whose environment holds ``BENCH_TAG=<tag>``."""
    needle = f"BENCH_TAG={tag}".encode()
    return [pid for pid in _pids() if needle in _read(f"/proc/{pid}/environ").split(b"\0")]


def descendants(roots: list[int]) -> list[int]:
    """``roots`` and every process below them (by parent pid)."""
    children: dict[int, list[int]] = {}
    for pid in _pids():
        raw = _read(f"/proc/{pid}/stat")
        if raw:
            children.setdefault(int(raw.rsplit(b")", 1)[1].split()[1]), []).append(pid)
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.append(pid)
            todo += children.get(pid, [])
    return [pid for pid in out if _read(f"/proc/{pid}/stat")]


def with_cmdline(part: str) -> list[int]:
    """Processes whose command line contains ``part`` (PostgreSQL backends show their
    database name in their title)."""
    needle = part.encode()
    return [pid for pid in _pids() if needle in _read(f"/proc/{pid}/cmdline")]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """``pid -> user + system CPU seconds`` (reaped children included)."""
    out = {}
    for pid in pids:
        raw = _read(f"/proc/{pid}/stat")
        if not raw:
            continue
        fields = raw.rsplit(b")", 1)[1].split()
        out[pid] = sum(int(x) for x in fields[11:15]) / TICK
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings; a process born in between counts from zero."""
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """``(RSS, PSS)`` summed over ``pids`` in MB (PSS splits shared pages between sharers)."""
    rss = pss = 0
    for pid in pids:
        for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
            if line.startswith(b"Rss:"):
                rss += int(line.split()[1])
            elif line.startswith(b"Pss:"):
                pss += int(line.split()[1])
    return rss / 1024, pss / 1024


class PeakMemory(threading.Thread):
    """Samples the summed RSS / PSS of ``find()``'s processes until stopped; keeps the peak."""

    def __init__(self, find, interval: float = 0.5):
        super().__init__(daemon=True)
        self.find, self.interval = find, interval
        self.peak = (0.0, 0.0)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss, pss = memory_mb(self.find())
            self.peak = (max(self.peak[0], rss), max(self.peak[1], pss))
            self.halt.wait(self.interval)

    def stop(self) -> tuple[float, float]:
        self.halt.set()
        self.join()
        return self.peak


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (zombies count as gone)."""
    out = []
    for pid in pids:
        raw = _read(f"/proc/{pid}/stat")
        if raw and raw.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X"):
            out.append(pid)
    return out


def wait_gone(pids: list[int], timeout: float) -> tuple[float, list[int]]:
    """Seconds until every one of ``pids`` has exited (or ``timeout``), and what is left."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not alive(pids):
            return time.monotonic() - start, []
        time.sleep(0.1)
    return time.monotonic() - start, alive(pids)
