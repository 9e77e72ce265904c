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


def one_round(
    targets: list, access: Access, kbs: list, workers: int, folder: Path, served: object
) -> dict:
    sim_before = served.cpu_now()  # type: ignore[attr-defined]
    done = scan_round(
        targets, lambda: ProtocolCollector(plan_for(kbs), access), folder, workers,
    )  # fmt: skip
    facts = done.results.values()
    read = [f.bytes_read for f in facts if f.bytes_read is not None]
    sizes = [f.files[0].size for f in facts if f.files and f.files[0].size]
    return {
        "wall": done.seconds,
        "cpu": done.cpu,
        "sim": served.cpu_now() - sim_before,  # type: ignore[attr-defined]
        "trips": done.stats.round_trips / len(targets),
        "bytes": statistics.mean(read) if read else 0.0,
        "size": statistics.mean(sizes) if sizes else 0.0,
    }


SETS = {"KB934709": ("KB934709",), "the five bundled KBs": ()}  # () is every bundled KB


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sim-processes", type=int, default=2)
    args = p.parse_args()
    password = secrets.token_urlsafe(16)
    source = default_source()
    sets = {
        name: [source.load(k) for k in (ids or source.ids())]
        for name, ids in SETS.items()
    }
    winrm = WinrmSettings(username=USER, password=password, transport="ntlm")
    smb = SmbSettings(username=USER, password=password)
    runs: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with simulator(
            profiles(folder / "profiles"), "lon-smtp01", args.hosts, folder, password, USER,
            processes=args.sim_processes, smb=True, transport="ntlm",
        ) as served:  # fmt: skip
            targets = list(read_inventory(served.inventory).targets)
            for _ in range(args.rounds):
                for set_name, kbs in sets.items():
                    for name, protocol in (("winrm", Protocol.WINRM), ("smb", Protocol.SMB)):
                        access = Access(winrm, smb, protocol)
                        runs.setdefault((set_name, name), []).append(
                            one_round(targets, access, kbs, args.workers, folder, served)
                        )
    report(runs, len(targets), args)
    return 0


def report(runs: dict[tuple[str, str], list[dict]], n: int, args: argparse.Namespace) -> None:
    print(
        f"{n} simulated hosts (lon-smtp01 with the 501,760-byte Aqueue.dll), {args.workers} "
        f"workers, NTLM, loopback, {args.rounds} alternating rounds (median shown)"
    )
    print(f"{'':<30}{'hosts/s':>9}{'round trips/host':>18}{'client CPU ms/host':>20}"
          f"{'simulator CPU ms/host':>23}{'file bytes read/host':>22}")  # fmt: skip
    medians: dict[tuple[str, str], dict[str, float]] = {}
    for (set_name, name), rounds in runs.items():
        m = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        medians[(set_name, name)] = m
        shown = f"{m['bytes']:,.0f} of {m['size']:,.0f}" if m["bytes"] else "0 (WMI reads it)"
        print(
            f"{set_name + ', ' + name:<30}{n / m['wall']:>9.1f}{m['trips']:>18.1f}"
            f"{m['cpu'] / n * 1000:>20.1f}{m['sim'] / n * 1000:>23.1f}{shown:>22}"
        )
    for set_name in SETS:
        w, s = medians[(set_name, "winrm")], medians[(set_name, "smb")]
        print(f"{set_name}: SMB throughput = {w['wall'] / s['wall'] * 100:.0f}% of WinRM's")
    one, five = medians[("KB934709", "smb")], medians[("the five bundled KBs", "smb")]
    print(
        f"SMB, five KBs over one: round trips x{five['trips'] / one['trips']:.2f}, "
        f"client CPU x{five['cpu'] / one['cpu']:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
