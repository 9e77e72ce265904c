"""kbscan diff of two scans of the simulated demo fleet: a change window that fixed some
hosts and broke one."""

from __future__ import annotations

import io
import json
from pathlib import Path

from openpyxl import load_workbook

from kbscan import app
from kbscan.cli import run
from kbscan.collect.winrm import WinrmSettings
from kbscan.gate.diff import classify
from kbscan.gate.model import Change
from kbscan.limits import Limits
from kbscan.model import Status
from kbscan.report.formats import OutputFormat
from tests.simfleet import PASSWORD, USER, demo_hosts, fleet, inventory, variant

SETTINGS = WinrmSettings(
    username=USER, password=PASSWORD, transport="basic", allow_basic_over_http=True,
    fetch_files=True, read_timeout=3, operation_timeout=1,
)  # fmt: skip


def _with_file(base: str, dll: str) -> object:
    path = "C:\\WINDOWS\\system32\\inetsrv\\aqueue.dll"
    files = {path: {"content": dll, "last_modified": "20070606163200.000000+000"}}
    return variant(base, base, files=files)


def _scan(hosts: list, folder: Path) -> Path:
    folder.mkdir()
    with fleet(hosts) as f:
        app.scan_fleet(inventory(f, folder), "KB934709", folder, SETTINGS,
                       limits=Limits(deadline=2.0, workers=8, retries=0),
                       formats=[OutputFormat.JSON])  # fmt: skip
    return folder / "facts.jsonl"


def test_diff_of_two_demo_scans(tmp_path: Path) -> None:
    before = _scan(demo_hosts(), tmp_path / "before")
    changed = {
        "lon-smtp02": _with_file("lon-smtp02", "aqueue-x86-6.0.3790.4094-qfe.dll"),
        "nyc-smtp02": _with_file("nyc-smtp02", "aqueue-ia64-6.0.3790.2950-qfe.dll"),
        "lon-smtp01": _with_file("lon-smtp01", "aqueue-x86-6.0.3790.3959-rtm.dll"),  # regressed
    }
    after_hosts = [changed.get(h.host, h) for h in demo_hosts() if h.host != "lon-web01"]
    after_hosts.append(variant("lon-smtp03", "lon-smtp10"))  # a new server
    after = _scan(after_hosts, tmp_path / "after")

    out, err = io.StringIO(), io.StringIO()
    code = run(["diff", str(before), str(after), "--kb", "KB934709", "-o", str(tmp_path / "d")],
               out, err)  # fmt: skip
    assert code == 0, err.getvalue()
    doc = json.loads((tmp_path / "d" / "KB934709-diff.json").read_text())
    by_change: dict[str, list[str]] = {}
    for h in doc["hosts"]:
        by_change.setdefault(h["change"], []).append(h["host"])
    assert sorted(by_change["remediated"]) == ["lon-smtp02", "nyc-smtp02"]
    assert by_change["regressed"] == ["lon-smtp01"]
    assert by_change["newly seen"] == ["lon-smtp10"]
    assert by_change["vanished"] == ["lon-web01"]
    assert "nyc-smtp04" in by_change["still open"]
    regressed = next(h for h in doc["hosts"] if h["host"] == "lon-smtp01")
    assert (regressed["before_version"], regressed["after_version"]) == (
        "6.0.3790.4094",
        "6.0.3790.3959",
    )
    text = out.getvalue()
    assert "regressed" in text and "lon-smtp01" in text
    sheet = load_workbook(tmp_path / "d" / "KB934709-remediation.xlsx")["Diff"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["lon-smtp01"] == "regressed" and rows["lon-smtp02"] == "remediated"


def test_classify() -> None:
    assert classify(Status.NEEDS_HOTFIX, Status.COMPLIANT) is Change.REMEDIATED
    assert classify(Status.COMPLIANT, Status.SUSPECT) is Change.REGRESSED
    assert classify(Status.NEEDS_HOTFIX, Status.RESTART_PENDING) is Change.STILL_OPEN
    assert classify(Status.UNKNOWN, Status.COMPLIANT) is Change.CHANGED
    assert classify(Status.COMPLIANT, Status.COMPLIANT) is Change.UNCHANGED
    assert classify(None, Status.COMPLIANT) is Change.NEWLY_SEEN
    assert classify(Status.COMPLIANT, None) is Change.VANISHED
