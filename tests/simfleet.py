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
