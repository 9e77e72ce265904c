"""kbscan's scan beside a bare pywinrm ``run_cmd`` loop, same fleet, same concurrency,
same run.

    python benchmarks/bench_scan.py [--hosts 200] [--workers 32] [--delay 0.02] [--rounds 3]

The simulated fleet runs in its own process (``python -m kbscan.simulator``) with DELAY
seconds of latency injected into every WinRM request, so the client's CPU time is the
client's alone. Both sides run the same probe command line over Basic auth on loopback.
Rounds alternate (bare, kbscan, bare, kbscan, ...) so drift hits both; the median round
of each is reported, with kbscan's throughput as a share of the bare loop's.
"""

from __future__ import annotations

import argparse
import resource
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import winrm
from simulated import scan_round, simulator

from kbscan.collect.plan import plan_for
from kbscan.collect.probe import build_probe
from kbscan.collect.winrm import WinrmCollector, WinrmSettings
from kbscan.inventory import read_inventory
from kbscan.kb.directory import default_source
from kbscan.paths import data_dir
from kbscan.scan import default_processes

USER = "bench"


def bare_round(targets: list, password: str, probe: str, workers: int) -> tuple[float, float]:
    def one(target: object) -> int:
        t = target  # type: ignore[assignment]
        session = winrm.Session(
            f"http://{t.address}:{t.port}/wsman", auth=(USER, password), transport="basic"
        )
        return len(session.run_cmd(probe).std_out)

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sizes = list(pool.map(one, targets))
    assert all(sizes), "a bare run_cmd returned nothing"
    return time.perf_counter() - wall, time.process_time() - cpu


def kbscan_round(
    targets: list, settings: WinrmSettings, kb: object, workers: int, folder: Path,
    processes: int,
) -> tuple[float, float, int]:  # fmt: skip
    done = scan_round(
        targets, lambda: WinrmCollector(plan_for([kb]), settings),  # type: ignore[list-item]
        folder, workers, processes,
    )  # fmt: skip
    return done.seconds, done.cpu, done.stats.round_trips


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", type=int, default=200)
    p.add_argument("--workers", type=int, default=32)
    p.add_argument("--delay", type=float, default=0.02)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sim-processes", type=int, default=1, help="simulator processes")
    p.add_argument("--processes", type=int, help="kbscan's collecting processes (default: auto)")
    args = p.parse_args()
    password = secrets.token_urlsafe(16)
    kb = default_source().load("KB934709")
    probe = build_probe(plan_for([kb]))
    settings = WinrmSettings(
        username=USER, password=password, transport="basic", allow_basic_over_http=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with simulator(
            data_dir() / "demo" / "fleet", "lon-smtp01", args.hosts, folder, password, USER,
            delay=args.delay, processes=args.sim_processes,
        ) as served:  # fmt: skip
            targets = list(read_inventory(served.inventory).targets)
            processes = args.processes or default_processes(len(targets))
            bare, ours = [], []
            for _ in range(args.rounds):
                bare.append(bare_round(targets, password, probe, args.workers))
                ours.append(kbscan_round(targets, settings, kb, args.workers, folder, processes))
        sim_cpu = served.cpu
    n = len(targets)
    bare_wall = statistics.median(b[0] for b in bare)
    bare_cpu = statistics.median(b[1] for b in bare)
    our_wall = statistics.median(o[0] for o in ours)
    our_cpu = statistics.median(o[1] for o in ours)
    trips = ours[0][2] / n
    print(
        f"{n} simulated hosts, {args.workers} workers, {args.delay * 1000:.0f} ms injected "
        f"per WinRM request, {args.rounds} alternating rounds (median shown)"
    )
    print(f"{'':<22}{'hosts/s':>10}{'round trips/host':>18}{'client CPU ms/host':>20}")
    print(f"{'bare pywinrm run_cmd':<22}{n / bare_wall:>10.1f}{5:>18}{bare_cpu / n * 1000:>20.2f}")
    print(f"{'kbscan scan':<22}{n / our_wall:>10.1f}{trips:>18.1f}{our_cpu / n * 1000:>20.2f}")
    print(f"kbscan throughput = {bare_wall / our_wall * 100:.0f}% of the bare loop's "
          f"({processes} collecting process(es))")  # fmt: skip
    rounds = args.rounds * 2
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"kbscan's peak RSS (this process, the journal's facts of {n} hosts in memory): "
          f"{peak:.0f} MiB")  # fmt: skip
    print(f"simulator CPU: {sim_cpu:.1f} s for {rounds} rounds "
          f"({sim_cpu / rounds / n * 1000:.2f} ms/host), {args.sim_processes} process(es)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
