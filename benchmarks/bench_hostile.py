"""The hostile fleet's wall time against the deadline's bound, and its peak memory.

``python benchmarks/bench_hostile.py [--copies 1 5] [--workers 6 32]`` runs, for each
size, a fresh process that serves the hostile fleet of tests/hostile_fleet.py (every
hostile TCP/HTTP endpoint and WS-Management fault, plus three well-behaved hosts) ``copies``
times over, scans it with a 3 s per-host deadline, and prints the hosts, the wall time,
the bound (hosts / workers, rounded up) x deadline + 5 s, and the process's peak RSS with
what the scan added to it. Run by hand; the figures go in the README.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one(copies: int, workers: int) -> dict[str, float]:
    from kbscan import app
    from kbscan.limits import Limits
    from kbscan.report.formats import OutputFormat
    from tests.hostile_fleet import DEADLINE, EXPECTED, SETTINGS, hostile_fleet

    with tempfile.TemporaryDirectory() as tmp, hostile_fleet(Path(tmp), copies) as f:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.monotonic()
        outcome = app.scan_fleet(f.inventory, "KB934709", Path(tmp) / "out", SETTINGS,
                                 limits=Limits(deadline=DEADLINE, workers=workers, retries=1),
                                 formats=[OutputFormat.XLSX])  # fmt: skip
        elapsed = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hosts = len(EXPECTED) * copies
    assert len(outcome.evaluation.findings) == hosts
    return {
        "hosts": hosts,
        "workers": workers,
        "seconds": round(elapsed, 1),
        "bound": math.ceil(hosts / workers) * DEADLINE + 5,
        "peak_mib": round(peak),
        "added_mib": round(peak - before),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--copies", type=int, nargs="+", default=[1, 5])
    p.add_argument("--workers", type=int, nargs="+", default=[6, 32])
    p.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(one(*args.child)))
        return 0
    print("hosts  workers  seconds  bound  peak MiB  added MiB")
    for copies, workers in zip(args.copies, args.workers, strict=True):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(copies), str(workers)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['hosts']:>5}  {r['workers']:>7}  {r['seconds']:>7}  {r['bound']:>5}  "
              f"{r['peak_mib']:>8}  {r['added_mib']:>9}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
