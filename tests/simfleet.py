"""Helpers to run simulated fleets in tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from kbscan.paths import data_dir
from kbscan.simulator.fleet import SimulatedFleet
from kbscan.simulator.profile import SimHost, profile_from_json

FLEET_DIR = data_dir() / "demo" / "fleet"
FILES = FLEET_DIR / "files"
USER = "CORP\\scanner"
PASSWORD = "Canary-7f3a9c-never-print-me"


def demo_profile(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FLEET_DIR / f"{name}.json").read_text())
    return data


def variant(base: str, host: str, **changes: Any) -> SimHost:
    data = copy.deepcopy(demo_profile(base))
    data["host"] = host
    data["computer_name"] = host.upper()
    data.update(changes)
    return profile_from_json(data, FILES)


def demo_hosts() -> list[SimHost]:
    return [
        profile_from_json(json.loads(p.read_text()), FILES)
        for p in sorted(FLEET_DIR.glob("*.json"))
    ]


def fleet(hosts: list[SimHost], **kw: float) -> SimulatedFleet:
    kw.setdefault("operation_timeout", 0.5)
    return SimulatedFleet(hosts, USER, PASSWORD, **kw)


def inventory(f: SimulatedFleet, folder: Path) -> Path:
    return f.write_inventory(folder / "inventory.csv")


SCRIPT_AT = "C:\\kbscan\\kbscan-probe.cmd"


def run_probe_script(hosts: list[SimHost], script: str, folder: Path) -> list[Path]:
    """Run the probe script on each host as its administrator would (cmd, in the
    script's folder), and carry what it wrote back into ``folder``."""
    from kbscan.simulator.batch import run_batch

    outputs = []
    for host in hosts:
        run = run_batch(host, script, SCRIPT_AT)
        for windows_path, data in run.files.items():
            relative = windows_path[len("C:\\kbscan\\") :].split("\\")
            local = folder.joinpath(*relative)
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(data)
            if local.name.endswith(".kbscan.txt"):
                outputs.append(local)
    return outputs
