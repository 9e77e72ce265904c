"""``python -m kbscan.simulator``: serve a simulated fleet until stdin closes.

Used by benchmarks to keep the server's CPU out of the client's measurement:

    KBSCAN_SIM_PASSWORD=... python -m kbscan.simulator --profiles data/demo/fleet \\
        --clone lon-smtp01 --count 200 --delay 0.02 --inventory /tmp/inv.csv
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import resource
import sys
from pathlib import Path
from typing import Any

from kbscan.simulator.fleet import SimulatedFleet
from kbscan.simulator.profile import SimHost, profile_from_json


def _serve(
    hosts: list[SimHost], user: str, password: str, part: Path, conn: Any, smb: bool,
    transport: str,
) -> None:  # fmt: skip
    """One simulator process: serve ``hosts``, write their inventory rows, wait."""
    with SimulatedFleet(hosts, user, password, smb=smb) as fleet:
        fleet.write_inventory(part, transport=transport)
        conn.send("ready")
        conn.recv()  # serve until told to stop
        conn.send(fleet.requests())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kbscan.simulator")
    p.add_argument("--profiles", type=Path, required=True, help="folder of <host>.json + files/")
    p.add_argument("--clone", help="serve COUNT copies of this one profile instead")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--delay", type=float, default=0.0, help="seconds added to every request")
    p.add_argument("--user", default="bench")
    p.add_argument("--inventory", type=Path, required=True, help="CSV inventory to write")
    p.add_argument(
        "--processes", type=int, default=1, help="spread the hosts over this many processes"
    )
    p.add_argument("--smb", action="store_true", help="serve SMB too (needs kbscan[smb])")
    p.add_argument("--transport", default="basic", help="the inventory's WinRM transport")
    args = p.parse_args(argv)
    password = os.environ.get("KBSCAN_SIM_PASSWORD")
    if not password:
        p.error("set KBSCAN_SIM_PASSWORD")
    _raise_descriptor_limit()  # one listening socket per host
    files = args.profiles / "files"
    if args.clone:
        base = json.loads((args.profiles / f"{args.clone}.json").read_text())
        datas = []
        for i in range(args.count):
            data = copy.deepcopy(base)
            data["host"] = f"{args.clone}-{i:05d}"
            datas.append(data)
    else:
        datas = [json.loads(f.read_text()) for f in sorted(args.profiles.glob("*.json"))]
    hosts = [profile_from_json(d, files) for d in datas]
    for host in hosts:
        host.delay = args.delay
    shares = [hosts[i :: args.processes] for i in range(max(1, args.processes))]
    context = multiprocessing.get_context("fork")
    children = []
    for i, share in enumerate(shares):
        ours, theirs = context.Pipe()
        part = args.inventory.with_suffix(f".part{i}")
        proc = context.Process(
            target=_serve, args=(share, args.user, password, part, theirs, args.smb, args.transport)
        )
        proc.start()
        children.append((proc, ours, part))
    for _, conn, _ in children:
        conn.recv()
    lines: list[str] = []
    for i, (_, _, part) in enumerate(children):
        text = part.read_text(encoding="utf-8").splitlines()
        lines += text if i == 0 else text[1:]  # one header
        part.unlink()
    args.inventory.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("ready", flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    total = 0
    for proc, conn, _ in children:
        conn.send("stop")
        total += conn.recv()
        proc.join(timeout=30)
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # the serving processes
    cpu = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    print(f"requests {total}", flush=True)
    print(f"cpu {cpu:.2f}", flush=True)
    return 0


def _raise_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    sys.exit(main())
