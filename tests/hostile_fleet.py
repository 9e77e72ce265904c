"""One fleet where every host misbehaves in its own way, beside well-behaved ones: the
hostile TCP/HTTP endpoints (kbscan.simulator.hostile) and the simulator's
WS-Management-level faults, with the category and message each must end in."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kbscan.collect.winrm import WinrmSettings
from kbscan.model import FailureCategory, Status
from kbscan.simulator.hostile import HTTP_BEHAVIOURS, HostileEndpoint
from tests.simfleet import PASSWORD, USER, fleet, variant

DEADLINE = 3.0
SETTINGS = WinrmSettings(
    username=USER,
    password=PASSWORD,
    transport="ntlm",
    allow_basic_over_http=True,  # the raw endpoints are asked with Basic; nothing is secret
    read_timeout=2,
    operation_timeout=1,
)

# host -> (failure category or categories, a phrase of its message), or the status it is
# judged as usual
EXPECTED: dict[str, tuple[FailureCategory | frozenset[FailureCategory], str] | Status] = {
    "drip-body": (FailureCategory.TIMEOUT, "within 3 s: body still arriving"),
    "drip-headers": (FailureCategory.TIMEOUT, "within 3 s: waiting for the answer's headers"),
    # silent: the read timeout (2 s) or the deadline (3 s), whichever ends it first
    "silent": (FailureCategory.TIMEOUT, "waiting for the answer's headers (opening the shell)"),
    "reset": (FailureCategory.UNREACHABLE, "connection"),
    "flood": (FailureCategory.UNPARSEABLE_OUTPUT, "stopped reading"),
    "huge-length": (FailureCategory.UNPARSEABLE_OUTPUT, "2147483648 bytes"),
    "xml-bomb": (FailureCategory.UNPARSEABLE_OUTPUT, "not XML"),
    "http500-html": (FailureCategory.WINRM_FAULT, "HTTP 500 with a body that is not a SOAP"),
    "auth-loop": (FailureCategory.REFUSED_CREDENTIALS, "rejected the credentials"),
    "redirect": (FailureCategory.WINRM_FAULT, "redirect to http://127.0.0.2"),
    "never-done": (FailureCategory.TIMEOUT, "(reading the probe's output)"),
    "timeout": (FailureCategory.TIMEOUT, ""),
    # 80 MB in 256 KB Receives: the 64 MiB cap, or on a loaded machine the deadline first
    "huge-output": (
        frozenset({FailureCategory.UNPARSEABLE_OUTPUT, FailureCategory.TIMEOUT}),
        "",
    ),
    "wrong-relates-to": (FailureCategory.UNPARSEABLE_OUTPUT, "not what WS-Management sends"),
    "bad-base64": (FailureCategory.UNPARSEABLE_OUTPUT, "not what WS-Management sends"),
    "good-compliant": Status.COMPLIANT,
    "good-needs-hotfix": Status.NEEDS_HOTFIX,
    "good-exchange": Status.NOT_APPLICABLE,
}
SIMULATED = {
    "never-done": ("lon-smtp01", "never-done"),
    "timeout": ("lon-smtp01", "timeout"),
    "huge-output": ("lon-smtp01", "huge-output"),
    "wrong-relates-to": ("lon-smtp01", "wrong-relates-to"),
    "bad-base64": ("lon-smtp01", "bad-base64"),
    "good-compliant": ("lon-smtp01", "normal"),
    "good-needs-hotfix": ("lon-smtp02", "normal"),
    "good-exchange": ("lon-exch01", "normal"),
}


@dataclass(frozen=True)
class HostileFleet:
    inventory: Path
    endpoints: dict[str, HostileEndpoint]


def copy_name(name: str, copy: int) -> str:
    return name if copy == 0 else f"{name}-{copy}"


@contextlib.contextmanager
def hostile_fleet(folder: Path, copies: int = 1) -> Iterator[HostileFleet]:
    """Every hostile endpoint and simulated host running (``copies`` hosts of each, for
    the benchmark), and one inventory naming all."""
    sims = [
        variant(base, copy_name(name, c), behaviour=kind)
        for c in range(copies)
        for name, (base, kind) in SIMULATED.items()
    ]
    endpoints = {b: HostileEndpoint(b) for b in HTTP_BEHAVIOURS}
    try:
        with fleet(sims, operation_timeout=1.0) as simulated:
            inventory = simulated.write_inventory(folder / "inventory.csv", transport="ntlm")
            with inventory.open("a", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                for c in range(copies):
                    for name, endpoint in endpoints.items():
                        writer.writerow([copy_name(name, c), endpoint.address, endpoint.port,
                                         "basic", "http", "", ""])  # fmt: skip
            yield HostileFleet(inventory, endpoints)
    finally:
        for endpoint in endpoints.values():
            endpoint.stop()
