"""One scan for a baseline of 1, 5 and 20 KBs, same 200 simulated hosts, same run.

    python benchmarks/bench_baseline.py [--hosts 200] [--workers 32] [--delay 0.02] [--rounds 3]

The fleet runs in its own process (``python -m kbscan.simulator``, copies of a demo
Server 2003 host, DELAY seconds injected into every WinRM request). Sets: KB934709 alone;
the five bundled KBs; and those five with fifteen more, generated for this benchmark
only (copies of KB934709 under other ids, each replacing a file of its own under
inetsrv), so the probe asks for twenty-odd files as a real baseline's does. Rounds
alternate between the sets; the median round of each is shown with its time as a
multiple of the one-KB scan's, and the WS-Management round trips per host.
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

from simulated import scan_round, simulator

from kbscan.collect.plan import plan_for
from kbscan.collect.winrm import WinrmCollector, WinrmSettings
from kbscan.inventory import read_inventory
from kbscan.kb.directory import default_source
from kbscan.paths import data_dir

USER = "bench"
BUNDLED = ["KB934709", "KB2492386", "KB981506", "KB318364", "KB319733"]


def generated_kbs(folder: Path, count: int) -> list[str]:
    """KB files made for the benchmark only: KB934709's tables, another id and file."""
    seed = json.loads((data_dir() / "kb" / "KB934709.json").read_text())
    ids = []
    for i in range(count):
        kb = copy.deepcopy(seed)
        kb["id"] = f"KB97{i:04d}"
        kb["installed_evidence"]["hotfix_ids"] = [kb["id"]]
        for table in kb["tables"]:
            for row in table["rows"]:
                row["name"] = f"Smtpext{i:02d}.dll"
                row["path"] = f"%SystemRoot%\\system32\\inetsrv\\smtpext{i:02d}.dll"
        (folder / f"{kb['id']}.json").write_text(json.dumps(kb))
        ids.append(kb["id"])
    return ids


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", type=int, default=200)
    p.add_argument("--workers", type=int, default=32)
    p.add_argument("--delay", type=float, default=0.02)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    password = secrets.token_urlsafe(16)
    settings = WinrmSettings(username=USER, password=password, transport="basic",
                             allow_basic_over_http=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        extra = folder / "kb"
        extra.mkdir()
        generated = generated_kbs(extra, 15)
        source = default_source(extra)
        sets = {
            1: [source.load("KB934709")],
            5: [source.load(k) for k in BUNDLED],
            20: [source.load(k) for k in BUNDLED + generated],
        }
        with simulator(
            data_dir() / "demo" / "fleet", "lon-smtp01", args.hosts, folder, password, USER,
            delay=args.delay,
        ) as served:  # fmt: skip
            targets = list(read_inventory(served.inventory).targets)
            times: dict[int, list[float]] = {n: [] for n in sets}
            cpus: dict[int, list[float]] = {n: [] for n in sets}
            trips: dict[int, int] = {}
            for _ in range(args.rounds):
                for n, kbs in sets.items():
                    plan = plan_for(kbs)
                    done = scan_round(
                        targets, lambda plan=plan: WinrmCollector(plan, settings),
                        folder, args.workers,
                    )  # fmt: skip
                    trips[n] = done.stats.round_trips
                    times[n].append(done.seconds)
                    cpus[n].append(done.cpu)
    hosts = len(targets)
    one = statistics.median(times[1])
    print(f"{hosts} simulated hosts, {args.workers} workers, {args.delay * 1000:.0f} ms per "
          f"WinRM request, {args.rounds} alternating rounds (median shown)")  # fmt: skip
    print(f"{'KBs':>4}{'files asked':>13}{'seconds':>9}{'hosts/s':>9}{'x 1-KB time':>13}"
          f"{'round trips/host':>18}{'client CPU ms/host':>20}")  # fmt: skip
    for n, kbs in sets.items():
        t = statistics.median(times[n])
        print(f"{n:>4}{len(plan_for(kbs).files):>13}{t:>9.2f}{hosts / t:>9.1f}{t / one:>13.2f}"
              f"{trips[n] / hosts:>18.1f}{statistics.median(cpus[n]) / hosts * 1000:>20.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
