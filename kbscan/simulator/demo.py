"""``kbscan demo``: the demo fleet served on loopback, scanned as a real fleet would be.

It sits beside the simulator and above the scan (it drives ``app.scan_fleet``), so
nothing in the scanner imports the simulator.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from kbscan.app import ScanOutcome, scan_fleet, write_reports
from kbscan.collect.smb import impacket_missing
from kbscan.collect.winrm import WinrmSettings
from kbscan.judge import judge
from kbscan.kb.baseline import KbSet
from kbscan.limits import Limits
from kbscan.model import Protocol
from kbscan.paths import data_dir
from kbscan.report.formats import DEFAULT_FORMATS
from kbscan.simulator.fleet import SimulatedFleet

DEMO_USER = "DEMO\\kbscan-svc"
# a loopback fleet answers in milliseconds: a short deadline, so the hostile hosts'
# timeouts do not hold the demo up
DEMO_LIMITS = Limits(deadline=4.0, read_timeout=4, operation_timeout=2, retries=1, workers=16)


def run_demo(out_dir: Path, now: datetime | None = None, **scan_options: Any) -> ScanOutcome:
    """``kbscan demo``: serve the demo fleet on loopback and scan it once for its baseline
    (data/demo/baseline.toml: KB934709 and two real multi-platform KBs); write the
    baseline's reports, and each KB's own from the same facts.

    The simulated hosts speak WS-Management to pywinrm exactly as a scan of real servers
    would, and SMB with the remote registry to impacket: hosts with no WinRM listener are
    read over SMB (--protocol auto), one because the inventory says so. Without impacket
    the demo is WinRM alone. The password is made up for this run and lives only in memory.
    """
    password = secrets.token_urlsafe(18)
    out_dir.mkdir(parents=True, exist_ok=True)
    demo = data_dir() / "demo"
    smb = impacket_missing() is None  # the demo's SMB half needs kbscan[smb]
    with SimulatedFleet.from_folder(
        demo / "fleet", DEMO_USER, password, operation_timeout=1.0, smb=smb
    ) as fleet:
        inventory = fleet.write_inventory(out_dir / "demo-inventory.csv", transport="ntlm")
        settings = WinrmSettings(
            username=DEMO_USER,
            password=password,
            transport="ntlm",  # with WinRM message encryption, as against real hosts
            fetch_files=True,
            read_timeout=DEMO_LIMITS.read_timeout,
            operation_timeout=DEMO_LIMITS.operation_timeout,
        )
        options: dict[str, Any] = {"limits": DEMO_LIMITS}
        options.update(scan_options)
        outcome = scan_fleet(
            inventory, (), out_dir, settings, now=now, baseline=demo / "baseline.toml",
            protocol=Protocol.AUTO if smb else Protocol.WINRM, **options,
        )  # fmt: skip
    written = list(outcome.written)
    facts = tuple({f.host: f.facts for f in outcome.evaluation.findings}.values())
    for kb in outcome.evaluation.kbs:
        single = KbSet(kb.id, (kb,), "command line")
        evaluation = judge(single, facts, str(inventory), outcome.evaluation.generated_at)
        written += write_reports(evaluation, out_dir, DEFAULT_FORMATS)
    return replace(outcome, written=tuple(written))
