"""The SMB collector beside the WinRM one: same fleet, same workers, same run.

    python benchmarks/bench_smb.py [--hosts 100] [--workers 16] [--rounds 3]

The simulated fleet (``python -m kbscan.simulator --smb``) runs in its own process and
serves every host over both protocols; each host is lon-smtp01 of the demo with the
full-size Aqueue.dll (501,760 bytes, as KB934709's table lists it), so the bytes the
SMB collector reads for the version compare with the real file. Both scans use NTLM
and the same KB; rounds alternate (WinRM, SMB, WinRM, ...) and the median is shown.
There is no injected latency: on a real network each round trip adds its RTT, so the
round trips per host say what a WAN costs each protocol.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from simulated import scan_round, simulator

from kbscan.collect.access import Access
from kbscan.collect.choose import ProtocolCollector
from kbscan.collect.plan import plan_for
from kbscan.collect.smb import SmbSettings
from kbscan.collect.winrm import WinrmSettings
from kbscan.inventory import read_inventory
from kbscan.kb.directory import default_source
from kbscan.model import Protocol
from kbscan.paths import data_dir

USER = "bench"
REPO = Path(__file__).resolve().parent.parent
FULL_SIZE = REPO / "tests" / "fixtures" / "pe" / "aqueue-x86-6.0.3790.4094-qfe-fullsize.dll"


def profiles(folder: Path) -> Path:
    """The demo's lon-smtp01 with the full-size DLL, in a folder of its own."""
    demo = data_dir() / "demo" / "fleet"
    shutil.copytree(demo / "files", folder / "files")
    shutil.copy(FULL_SIZE, folder / "files" / FULL_SIZE.name)
    data = json.loads((demo / "lon-smtp01.json").read_text())
    data["files"]["C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll"]["content"] = FULL_SIZE.name
    (folder / "lon-smtp01.json").write_text(json.dumps(data))
    return folder


def one_round(targets: list, access: Access, kb: object, workers: int, folder: Path) -> dict:
    done = scan_round(
        targets, lambda: ProtocolCollector(plan_for([kb]), access),  # type: ignore[list-item]
        folder, workers,
    )  # fmt: skip
    facts = done.results.values()
    read = [f.bytes_read for f in facts if f.bytes_read is not None]
    sizes = [f.files[0].size for f in facts if f.files and f.files[0].size]
    return {
        "wall": done.seconds,
        "cpu": done.cpu,
        "trips": done.stats.round_trips / len(targets),
        "bytes": statistics.mean(read) if read else 0.0,
        "size": statistics.mean(sizes) if sizes else 0.0,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sim-processes", type=int, default=2)
    args = p.parse_args()
    password = secrets.token_urlsafe(16)
    kb = default_source().load("KB934709")
    winrm = WinrmSettings(username=USER, password=password, transport="ntlm", deadline=60)
    smb = SmbSettings(username=USER, password=password, deadline=60)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with simulator(
            profiles(folder / "profiles"), "lon-smtp01", args.hosts, folder, password, USER,
            processes=args.sim_processes, smb=True, transport="ntlm",
        ) as served:  # fmt: skip
            targets = list(read_inventory(served.inventory).targets)
            runs: dict[str, list[dict]] = {"winrm": [], "smb": []}
            for _ in range(args.rounds):
                for name, protocol in (("winrm", Protocol.WINRM), ("smb", Protocol.SMB)):
                    access = Access(winrm, smb, protocol)
                    runs[name].append(one_round(targets, access, kb, args.workers, folder))
    n = len(targets)
    print(
        f"{n} simulated hosts (lon-smtp01 with the 501,760-byte Aqueue.dll), {args.workers} "
        f"workers, NTLM, loopback, {args.rounds} alternating rounds (median shown)"
    )
    print(f"{'':<8}{'hosts/s':>9}{'round trips/host':>18}{'client CPU ms/host':>20}"
          f"{'file bytes read/host':>22}")  # fmt: skip
    rates = {}
    for name, rounds in runs.items():
        wall = statistics.median(r["wall"] for r in rounds)
        cpu = statistics.median(r["cpu"] for r in rounds)
        trips = statistics.median(r["trips"] for r in rounds)
        read = statistics.median(r["bytes"] for r in rounds)
        size = statistics.median(r["size"] for r in rounds)
        rates[name] = n / wall
        shown = f"{read:,.0f} of {size:,.0f}" if read else "0 (WMI reads it)"
        print(f"{name:<8}{n / wall:>9.1f}{trips:>18.1f}{cpu / n * 1000:>20.1f}{shown:>22}")
    print(f"SMB throughput = {rates['smb'] / rates['winrm'] * 100:.0f}% of WinRM's in the same run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
