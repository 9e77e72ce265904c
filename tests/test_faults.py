"""A fleet of 200 simulated hosts where a quarter misbehave in every way the simulator
supports: the scan ends, every host appears exactly once, each failure has its category,
and the well-behaved hosts are judged correctly."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from openpyxl import load_workbook

from kbscan import app
from kbscan.collect.winrm import WinrmSettings
from kbscan.limits import Limits
from kbscan.model import FailureCategory, Status
from kbscan.report.formats import OutputFormat
from tests.simfleet import PASSWORD, USER, fleet, inventory, variant

HOSTS = 200
# behaviour -> (category of the UNKNOWN finding, or None when the host is still judged)
FAULTS = {
    "down": FailureCategory.UNREACHABLE,
    "refuse": FailureCategory.REFUSED_CREDENTIALS,
    "timeout": FailureCategory.TIMEOUT,
    "reset": FailureCategory.UNREACHABLE,
    "fault": FailureCategory.WINRM_FAULT,
    "garbage": FailureCategory.UNPARSEABLE_OUTPUT,
    "garbage-output": FailureCategory.UNPARSEABLE_OUTPUT,
    "truncated-output": None,  # the text survives; the fetched copy is cut and not trusted
    "slow": None,
}
GOOD = {  # demo profiles and what a healthy copy of each must be judged
    "lon-smtp01": Status.COMPLIANT,
    "lon-smtp02": Status.NEEDS_HOTFIX,
    "nyc-smtp03": Status.COMPLIANT,
    "fra-smtp02": Status.NEEDS_HOTFIX,
    "lon-exch01": Status.NOT_APPLICABLE,
    "lon-smtp07": Status.SUSPECT,
    "nyc-smtp05": Status.RESTART_PENDING,
    "lon-relay01": Status.NEEDS_SERVICE_PACK,
}


def test_two_hundred_hosts_a_quarter_misbehaving(tmp_path: Path) -> None:
    hosts, expected = [], {}
    kinds = list(FAULTS)
    bases = list(GOOD)
    for i in range(HOSTS):
        name = f"srv{i:03d}"
        base = bases[i % len(bases)]
        if i % 4 == 0:  # a quarter misbehave, every kind several times
            kind = kinds[(i // 4) % len(kinds)]
            extra = {"delay": 0.3} if kind == "slow" else {}
            hosts.append(variant("lon-smtp01", name,
                                 behaviour="normal" if kind == "slow" else kind, **extra))  # fmt: skip
            expected[name] = kind
        else:
            hosts.append(variant(base, name))
            expected[name] = GOOD[base]
    # one host prints far more than any probe: the client stops reading at its limit
    hosts.append(variant("lon-smtp01", "huge", behaviour="huge-output"))
    expected["huge"] = "huge-output"
    settings = WinrmSettings(username=USER, password=PASSWORD, transport="basic",
                             allow_basic_over_http=True, fetch_files=True, read_timeout=3,
                             operation_timeout=1)  # fmt: skip
    with fleet(hosts) as f:
        outcome = app.scan_fleet(inventory(f, tmp_path), "KB934709", tmp_path / "out", settings,
                                 limits=Limits(deadline=4.0, workers=32, retries=1),
                                 formats=[OutputFormat.XLSX, OutputFormat.JSON])  # fmt: skip
    findings = {x.host: x for x in outcome.evaluation.findings}
    assert len(findings) == len(hosts) == len(outcome.evaluation.findings)
    journal = [
        json.loads(line) for line in (tmp_path / "out" / "facts.jsonl").read_text().splitlines()
    ]
    assert sorted(Counter(j["host"] for j in journal).values()) == [1] * len(hosts)
    for name, want in expected.items():
        got = findings[name]
        if isinstance(want, Status):
            assert got.status is want, (name, got.reason)
        elif want == "huge-output":
            assert got.facts.failure is not None
            assert got.facts.failure.category is FailureCategory.UNPARSEABLE_OUTPUT
            assert "larger than" in got.facts.failure.message
        elif FAULTS[want] is None:
            assert got.status is Status.COMPLIANT, (name, want, got.reason)
            if want == "truncated-output":
                assert got.facts.files[0].binary is None and got.facts.files[0].binary_error
        else:
            assert got.status is Status.UNKNOWN, (name, want)
            assert got.facts.failure is not None
            assert got.facts.failure.category is FAULTS[want], (name, want, got.facts.failure)
    book = load_workbook(tmp_path / "out" / "KB934709-remediation.xlsx", read_only=True)
    rows = [r[0] for r in book["Hosts"].iter_rows(min_row=2, max_col=1, values_only=True)]
    assert sorted(rows) == sorted(findings)
