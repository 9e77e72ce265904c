"""``python -m kbscan.simulator``: serve a simulated fleet until stdin closes.

Used by benchmarks to keep the server's CPU out of the client's measurement:

    KBSCAN_SIM_PASSWORD=... python -m kbscan.simulator --profiles data/demo/fleet \\
        --clone lon-smtp01 --count 200 --delay 0.02 --inventory /tmp/inv.csv
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

from kbscan.simulator.fleet import SimulatedFleet
from kbscan.simulator.profile import profile_from_json


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kbscan.simulator")
    p.add_argument("--profiles", type=Path, required=True, help="folder of <host>.json + files/")
    p.add_argument("--clone", help="serve COUNT copies of this one profile instead")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--delay", type=float, default=0.0, help="seconds added to every request")
    p.add_argument("--user", default="bench")
    p.add_argument("--inventory", type=Path, required=True, help="CSV inventory to write")
    args = p.parse_args(argv)
    password = os.environ.get("KBSCAN_SIM_PASSWORD")
    if not password:
        p.error("set KBSCAN_SIM_PASSWORD")
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
    with SimulatedFleet(hosts, args.user, password) as fleet:
        fleet.write_inventory(args.inventory)
        print("ready", flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin
        print(f"requests {fleet.requests()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
