"""Scanning simulated fleets through the real pywinrm client over loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kbscan import app
from kbscan.collect.winrm import WinrmSettings
from kbscan.limits import HostDeadline, Limits
from kbscan.model import Arch, FailureCategory, Finding, Status
from kbscan.paths import data_dir
from kbscan.report.formats import OutputFormat
from tests.simfleet import PASSWORD, USER, demo_hosts, fleet, inventory, variant

SETTINGS = WinrmSettings(
    username=USER, password=PASSWORD, transport="basic", allow_basic_over_http=True,
    fetch_files=True, read_timeout=3, operation_timeout=1,
)  # fmt: skip


def _scan(
    hosts: list, tmp: Path, settings: WinrmSettings = SETTINGS, **kw: object
) -> dict[str, Finding]:
    with fleet(hosts) as f:
        outcome = app.scan_fleet(
            inventory(f, tmp),
            "KB934709",
            tmp / "out",
            settings,
            limits=Limits(deadline=2.0, workers=8, retries=1),
            formats=[OutputFormat.JSON],
            **kw,
        )  # type: ignore[arg-type]
    return {x.host: x for x in outcome.evaluation.findings}


def test_demo_fleet_over_winrm_matches_its_stored_evidence(tmp_path: Path) -> None:
    """Every host of the demo fleet, scanned over WinRM, gets the verdict its stored
    evidence gets offline: the probe, the parser and the simulator agree with the judge."""
    scanned = _scan(demo_hosts(), tmp_path)
    offline = app.evaluate_facts(data_dir() / "demo" / "collected", "KB934709", tmp_path / "off",
                                 [OutputFormat.JSON])  # fmt: skip
    expected = {f.host: f for f in offline.evaluation.findings}
    assert set(scanned) == set(expected)
    for host, finding in expected.items():
        got = scanned[host]
        assert got.status is finding.status, (host, got.reason, finding.reason)
        assert got.installed_version == finding.installed_version, host
        assert got.required_version == finding.required_version, host
        assert got.decided_by is finding.decided_by, host
    statuses = {f.status for f in scanned.values()}
    assert statuses == set(Status)
    rows = {(f.row.service_pack, f.row.architecture) for f in scanned.values()
            if f.row and f.status in (Status.COMPLIANT, Status.NEEDS_HOTFIX)}  # fmt: skip
    assert len(rows) == 6


def test_every_failure_kind_gets_its_category(tmp_path: Path) -> None:
    hosts = [
        variant("lon-smtp01", "ok", behaviour="normal"),
        variant("lon-smtp01", "down", behaviour="down"),
        variant("lon-smtp01", "refuse", behaviour="refuse"),
        variant("lon-smtp01", "hang", behaviour="timeout"),
        variant("lon-smtp01", "reset", behaviour="reset"),
        variant("lon-smtp01", "fault", behaviour="fault"),
        variant("lon-smtp01", "garbage", behaviour="garbage"),
        variant("lon-smtp01", "noise", behaviour="garbage-output"),
        variant("lon-smtp01", "cut", behaviour="truncated-output"),
        variant("lon-smtp01", "slow", behaviour="normal", delay=0.2),
    ]
    found = _scan(hosts, tmp_path)
    expected = {
        "down": FailureCategory.UNREACHABLE,
        "refuse": FailureCategory.REFUSED_CREDENTIALS,
        "hang": FailureCategory.TIMEOUT,
        "reset": FailureCategory.UNREACHABLE,
        "fault": FailureCategory.WINRM_FAULT,
        "garbage": FailureCategory.UNPARSEABLE_OUTPUT,
        "noise": FailureCategory.UNPARSEABLE_OUTPUT,
    }
    for host, category in expected.items():
        failure = found[host].facts.failure
        assert found[host].status is Status.UNKNOWN, host
        assert failure is not None and failure.category is category, (host, failure)
    assert found["ok"].status is Status.COMPLIANT
    assert found["slow"].status is Status.COMPLIANT
    # Cut mid-way through the fetched copy: the binary is not trusted, WMI still judges.
    cut = found["cut"]
    assert cut.facts.files and cut.facts.files[0].binary is None
    assert cut.facts.files[0].binary_error is not None


def test_wow64_shell_reads_the_native_file(tmp_path: Path) -> None:
    # A 32-bit shell on x64: System32 is redirected to SysWOW64, where an x86 aqueue.dll
    # lies. The probe must fetch through Sysnative, and WMI reads natively anyway.
    base = json.loads((data_dir() / "demo" / "fleet" / "fra-smtp03.json").read_text())
    x86_copy = {"content": "aqueue-x86-6.0.3790.4094-qfe.dll",
                "last_modified": "20070606163200.000000+000"}  # fmt: skip
    files = dict(base["files"], **{"C:\\WINDOWS\\SysWOW64\\inetsrv\\aqueue.dll": x86_copy})
    hosts = [
        variant("fra-smtp03", "wow", shell_32bit=True, files=files),
        variant("fra-smtp03", "wow-nosysnative", shell_32bit=True, sysnative=False, files=files),
    ]
    found = _scan(hosts, tmp_path)
    wow = found["wow"]
    assert wow.status is Status.COMPLIANT and wow.architecture is Arch.X64
    binary = wow.facts.files[0].binary
    assert binary is not None and binary.machine == "x64"
    # Without KB942589 there is no Sysnative: no copy, but WMI's native answer stands.
    other = found["wow-nosysnative"]
    assert other.status is Status.COMPLIANT and other.facts.files[0].binary is None


def test_basic_over_plain_http_is_refused_unless_allowed(tmp_path: Path) -> None:
    settings = WinrmSettings(username=USER, password=PASSWORD, transport="basic")
    found = _scan([variant("lon-smtp01", "h1")], tmp_path, settings)
    failure = found["h1"].facts.failure
    assert failure is not None and "clear text" in failure.message


def test_the_password_is_written_nowhere(tmp_path: Path) -> None:
    hosts = [variant("lon-smtp01", "a"), variant("lon-smtp01", "b", behaviour="refuse"),
             variant("lon-smtp01", "c", behaviour="down")]  # fmt: skip
    _scan(hosts, tmp_path)
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_every_inventory_host_appears_once_even_bad_rows(tmp_path: Path) -> None:
    with fleet([variant("lon-smtp01", "good")]) as f:
        inv = inventory(f, tmp_path)
        with inv.open("a") as handle:
            handle.write("badport,127.0.0.1,99999,basic,,\n")
            handle.write("good,127.0.0.1,1,basic,,\n")  # a duplicate: scanned once
        outcome = app.scan_fleet(inv, "KB934709", tmp_path / "out", SETTINGS,
                                 limits=Limits(deadline=2.0, workers=2),
                                 formats=[OutputFormat.JSON])  # fmt: skip
    hosts = [x.host for x in outcome.evaluation.findings]
    assert sorted(hosts) == ["badport", "good"]
    assert [str(p).split(": ", 1)[1] for p in outcome.problems] == [
        "port '99999' is not a number from 1 to 65535",
        "good is listed again (first on line 2); scanned once",
    ]
    bad = next(x for x in outcome.evaluation.findings if x.host == "badport")
    assert bad.facts.failure is not None
    assert bad.facts.failure.category is FailureCategory.BAD_INVENTORY_ROW


@pytest.mark.parametrize("fetch", [False, True])
def test_round_trips_per_host(tmp_path: Path, fetch: bool) -> None:
    settings = WinrmSettings(**{**SETTINGS.__dict__, "fetch_files": fetch})
    with fleet([variant("lon-smtp01", f"h{i}") for i in range(4)]) as f:
        outcome = app.scan_fleet(inventory(f, tmp_path), "KB934709", tmp_path / "o", settings,
                                 limits=Limits(deadline=2.0),
                                 formats=[OutputFormat.JSON])  # fmt: skip
    # Create, Command, Receive, Signal, Delete: one shell, one command per host.
    assert outcome.stats.round_trips == 4 * 5


def test_a_collector_that_raises_costs_one_host_not_the_scan(tmp_path: Path) -> None:
    from kbscan.collect.interface import Collector
    from kbscan.collect.outcome import Collected
    from kbscan.journal import Journal
    from kbscan.model import FailureCategory, HostFacts, ReadBy, Target
    from kbscan.scan import scan_targets

    class Buggy(Collector):
        fault = FailureCategory.SMB_FAULT
        read_by = ReadBy.SMB

        def collect(self, target: Target, deadline: HostDeadline) -> Collected:
            if target.host == "boom":
                raise RuntimeError("a bug")
            return Collected(HostFacts(host=target.host), 1, False)

    journal = Journal(tmp_path / "facts.jsonl")
    journal.open(fresh=True)
    results, _ = scan_targets(
        [Target("ok"), Target("boom")], Buggy, journal, limits=Limits(deadline=2.0, workers=2)
    )
    journal.close()
    assert results["ok"].failure is None
    failure = results["boom"].failure
    assert failure is not None and "RuntimeError" in failure.message
    assert failure.category is FailureCategory.SMB_FAULT  # the collector's own, not WinRM's
    assert results["boom"].collector is ReadBy.SMB  # read by SMB, not "offline"


def test_the_journal_re_judges_to_the_same_verdicts(tmp_path: Path) -> None:
    """facts.jsonl is the seam between collecting and judging: re-evaluating it later
    (binary evidence included) must give what the scan gave."""
    with fleet(demo_hosts()) as f:
        scanned = app.scan_fleet(inventory(f, tmp_path), "KB934709", tmp_path / "out",
                                 SETTINGS, limits=Limits(deadline=2.0, workers=8),
                                 formats=[OutputFormat.JSON])  # fmt: skip
    again = app.evaluate_facts(tmp_path / "out" / "facts.jsonl", "KB934709", tmp_path / "again",
                               [OutputFormat.JSON])  # fmt: skip
    first = {f.host: (f.status, f.reason, f.decided_by) for f in scanned.evaluation.findings}
    second = {f.host: (f.status, f.reason, f.decided_by) for f in again.evaluation.findings}
    assert first == second
    assert again.problems == ()
