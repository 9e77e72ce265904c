"""What the scan benchmarks share: a simulated fleet in its own process, and one timed
scan of it (so the simulator's CPU stays out of the client's measurement)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kbscan.journal import Journal
from kbscan.limits import Limits
from kbscan.model import HostFacts
from kbscan.scan import ScanStats, scan_targets


def cpu_seconds() -> float:
    """This process's CPU and its collecting children's (reaped when a scan ends)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class Served:
    inventory: Path
    tail: str = field(default="")  # what the simulator printed when it stopped
    pid: int = 0

    def cpu_now(self) -> float:
        """The simulator's CPU so far, its serving processes' included (Linux /proc):
        read before and after a round, it is what serving that round cost."""
        return _tree_cpu(self.pid)

    @property
    def cpu(self) -> float:
        return (
            float(self.tail.split("cpu ")[-1].split()[0]) if "cpu " in self.tail else float("nan")
        )


@contextmanager
def simulator(
    profiles: Path, clone: str, count: int, folder: Path, password: str, user: str, *,
    delay: float = 0.0, processes: int = 1, smb: bool = False, transport: str = "basic",
) -> Iterator[Served]:  # fmt: skip
    """``python -m kbscan.simulator`` serving COUNT copies of one profile until the block ends."""
    served = Served(folder / "inventory.csv")
    command = [
        sys.executable, "-m", "kbscan.simulator", "--profiles", str(profiles), "--clone", clone,
        "--count", str(count), "--delay", str(delay), "--user", user, "--inventory",
        str(served.inventory), "--processes", str(processes), "--transport", transport,
    ]  # fmt: skip
    if smb:
        command.append("--smb")
    server = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "KBSCAN_SIM_PASSWORD": password},
    )  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    served.pid = server.pid
    try:
        assert server.stdout.readline().strip() == "ready"
        yield served
    finally:
        server.stdin.close()
        served.tail = server.stdout.read()
        server.wait(timeout=120)


def _tree_cpu(pid: int) -> float:
    """utime + stime of a process and of its live children, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass(frozen=True)
class Round:
    seconds: float
    cpu: float
    stats: ScanStats
    results: dict[str, HostFacts]


def scan_round(
    targets: list, make_collector: Callable[[], object], folder: Path, workers: int,
    processes: int = 1, deadline: float = 60.0,
) -> Round:  # fmt: skip
    """One scan of every target, journalled as kbscan does; every host must succeed."""
    journal = Journal(folder / f"facts-{time.monotonic_ns()}.jsonl")
    journal.open(fresh=True)
    cpu, wall = cpu_seconds(), time.perf_counter()
    results, stats = scan_targets(
        targets, make_collector, journal,  # type: ignore[arg-type]
        limits=Limits(deadline=deadline, workers=workers, retries=0, processes=processes),
    )  # fmt: skip
    elapsed, used = time.perf_counter() - wall, cpu_seconds() - cpu
    journal.close()
    failed = [f for f in results.values() if f.failure is not None]
    assert not failed, failed[0].failure
    return Round(elapsed, used, stats, results)
