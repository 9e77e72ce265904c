"""Baselines: a set of KBs judged in one scan, one collection per host, every output per
(host, KB); a set of one KB is what a single-KB run always was."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kbscan import app
from kbscan.cli import main
from kbscan.collect.winrm import WinrmSettings
from kbscan.kb.baseline import BaselineError
from kbscan.limits import Limits
from kbscan.paths import data_dir
from kbscan.report.excel import SHEETS
from kbscan.report.formats import OutputFormat
from tests.simfleet import PASSWORD, USER, demo_hosts, fleet

DEMO = data_dir() / "demo" / "collected"
KBS = ["KB934709", "KB2492386", "KB981506"]
SETTINGS = WinrmSettings(username=USER, password=PASSWORD, transport="basic",
                         allow_basic_over_http=True, fetch_files=True, read_timeout=4,
                         operation_timeout=2)  # fmt: skip


def test_a_set_of_several_is_one_collection_per_host(tmp_path: Path) -> None:
    with fleet(demo_hosts(), operation_timeout=1.0) as f:
        inventory = f.write_inventory(tmp_path / "inventory.csv")
        outcome = app.scan_fleet(inventory, KBS, tmp_path / "set", SETTINGS,
                                 limits=Limits(deadline=3.0, workers=16, retries=0),
                                 formats=[OutputFormat.JSON])  # fmt: skip
        commands = f.commands()
    # One command line per host that answers at all, whatever the number of KBs.
    assert max(commands.values()) == 1
    assert sum(commands.values()) == sum(
        1 for h in demo_hosts() if h.behaviour in ("normal", "timeout", "fault")
    ) - 1  # the QuotaLimit host faults before any command
    journal = tmp_path / "set" / "facts.jsonl"
    assert len(journal.read_text().splitlines()) == len(demo_hosts())  # facts stored once
    # The same statuses as judging each KB alone on the same facts.
    by_pair = {(f.host, f.kb_id): f.status for f in outcome.evaluation.findings}
    for kb_id in KBS:
        alone = app.evaluate_facts(journal, kb_id, tmp_path / kb_id, [OutputFormat.JSON])
        for finding in alone.evaluation.findings:
            assert by_pair[(finding.host, kb_id)] is finding.status, (finding.host, kb_id)
    assert len(by_pair) == len(demo_hosts()) * len(KBS)


def test_a_set_of_one_kb_writes_what_a_single_kb_run_writes(tmp_path: Path) -> None:
    one = app.evaluate_facts(DEMO, ["KB934709"], tmp_path / "one")
    plain = app.evaluate_facts(DEMO, "KB934709", tmp_path / "plain")
    assert [p.name for p in one.written] == [p.name for p in plain.written] == [
        "KB934709-remediation.xlsx", "KB934709-findings.csv", "KB934709-findings.json",
    ]  # fmt: skip
    assert (tmp_path / "one" / "KB934709-findings.csv").read_bytes() == (
        tmp_path / "plain" / "KB934709-findings.csv"
    ).read_bytes()
    document = json.loads((tmp_path / "one" / "KB934709-findings.json").read_text())
    assert document["kb"] == "KB934709" and "kbs" not in document
    assert load_workbook(tmp_path / "one" / "KB934709-remediation.xlsx").sheetnames == list(SHEETS)


def test_the_set_workbook_csv_and_json(tmp_path: Path) -> None:
    baseline = tmp_path / "mail.toml"
    baseline.write_text('name = "Mail gateways"\nkbs = ["KB934709", "KB2492386"]\n'
                        '[scope]\nsites = ["London", "Frankfurt"]\n')  # fmt: skip
    outcome = app.evaluate_facts(DEMO, [], tmp_path / "out", baseline=baseline)
    assert [p.name for p in outcome.written] == [
        "Mail-gateways-remediation.xlsx", "Mail-gateways-findings.csv",
        "Mail-gateways-findings.json",
    ]  # fmt: skip
    hosts = {f.host for f in outcome.evaluation.findings}
    rows = list(csv.DictReader((tmp_path / "out" / "Mail-gateways-findings.csv").open()))
    assert len(rows) == 2 * len(hosts)  # one row per (host, KB)
    outside = [r for r in rows if r["site"] not in ("London", "Frankfurt")]
    assert outside and all(r["status"] == "NOT_APPLICABLE" for r in outside)
    assert all("outside the scope of Mail gateways" in r["reason"] for r in outside)
    wb = load_workbook(tmp_path / "out" / "Mail-gateways-remediation.xlsx")
    assert wb.sheetnames == [
        "Summary", "Matrix", "Remediation", "Findings", "Hosts", "Unreachable", "KBs",
    ]  # fmt: skip
    matrix = wb["Matrix"]
    assert matrix.freeze_panes == "E2" and matrix.auto_filter.ref
    header = [c.value for c in next(matrix.iter_rows(max_row=1))]
    assert header[4:] == ["KB934709", "KB2492386"]
    assert matrix.cell(1, 5).alignment.text_rotation == 90
    listed = [r[0] for r in matrix.iter_rows(min_row=2, values_only=True)][:-1]
    assert sorted(listed) == sorted(hosts)  # every host, and a totals row
    remediation = {r[0]: r for r in wb["Remediation"].iter_rows(min_row=2, values_only=True)}
    plan = remediation["lon-relay01"][7]  # SP0: below both KBs' prerequisite
    assert plan.startswith("1. Windows Server 2003 Service Pack 2\n2. KB934709 for ")
    assert "\n3. KB2492386 for Windows Server 2003 SP2 x86" in plan
    assert remediation["lon-smtp02"][8] == "Server restart (covers every service restart)"
    # SP1 x64, short of KB2492386's SP2: after the service pack, KB934709's SP2 package.
    assert remediation["fra-smtp09"][7].split("\n")[:2] == [
        "1. Windows Server 2003 Service Pack 2",
        "2. KB934709 for Windows Server 2003 SP2 x64 (Aqueue.dll 6.0.3790.4094)",
    ]
    document = json.loads((tmp_path / "out" / "Mail-gateways-findings.json").read_text())
    assert document["baseline"] == "Mail-gateways" and document["baseline_file"] == str(baseline)
    assert [k["kb"] for k in document["kbs"]] == ["KB934709", "KB2492386"]


def test_kb_all_and_bad_baselines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    every = app.kb_set(["all"])
    assert [kb.id for kb in every.kbs] == [
        "KB318364", "KB319733", "KB934709", "KB981506", "KB2492386",
    ]  # fmt: skip
    with pytest.raises(BaselineError, match="no KB named"):
        app.kb_set([])
    bad = tmp_path / "bad.toml"
    bad.write_text('kbs = ["KB934709"]\ncolour = "red"\n')
    with pytest.raises(BaselineError, match="colour: unknown key"):
        app.kb_set([], baseline=bad)
    assert main(["evaluate", str(DEMO), "--baseline", str(bad), "-o", str(tmp_path)]) == 2
    assert "bad.toml: colour: unknown key" in capsys.readouterr().err


def test_verbose_after_the_subcommand_and_defaults_in_help(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    before = logging.getLogger().handlers[:]
    code = main(["evaluate", str(DEMO), "--kb", "KB934709", "--kb", "KB981506", "-v",
                 "-o", str(tmp_path)])  # fmt: skip
    assert code == 0
    assert logging.getLogger().handlers == before  # a run in-process leaves logging as it was
    assert main(["scan", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "(default: 32)" in shown and "(default: 120.0)" in shown
    assert "(default: 30)" in shown and "(default: 20)" in shown


def test_gate_and_diff_over_a_baseline(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('name = "CAB"\n[kbs]\nKB2492386 = "warn"\nKB981506 = "pass"\n')
    exemptions = tmp_path / "exemptions.csv"
    exemptions.write_text(
        "host,kb,reason,approver,expires\n"
        "lon-smtp02,KB934709,window next week,cab,2099-01-01\n"
        "lon-smtp02,KB2492386,not needed for this one,cab,2099-01-01\n"
    )
    junit = tmp_path / "junit.xml"
    outcome = app.gate_facts(DEMO, KBS, tmp_path / "gate", policy, exemptions, junit)
    v = outcome.verdict
    assert not v.passed  # KB934709's hosts needing action still fail
    failing = {(h.host, h.kb_id) for h in v.failing}
    assert failing and {kb for _, kb in failing} == {"KB934709"}  # the others warn or pass
    assert ("lon-smtp02", "KB934709") not in failing  # exempt for that KB only
    used = {(e.host, e.kb_id) for e in v.exemptions_used}
    assert used == {("lon-smtp02", "KB934709")}
    assert {(e.host, e.kb_id) for e in v.exemptions_unused} == {("lon-smtp02", "KB2492386")}
    assert v.reasons[0].startswith(f"{len(failing)} (host, KB) pair(s) fail the policy")
    cases = junit.read_text().count("<testcase ")
    assert cases == len({f.host for f in outcome.evaluation.findings}) * len(KBS)
    document = json.loads((tmp_path / "gate" / "baseline-verdict.json").read_text())
    assert all(h["kb"] == "KB934709" for h in document["failing_hosts"])
    assert "| host | KB | status | reason |" in (tmp_path / "gate" / "baseline-verdict.md").read_text()

    changed = app.diff_facts(DEMO, DEMO, KBS, tmp_path / "diff")
    diff = changed.evaluation.diff
    assert diff is not None and {h.change.value for h in diff.hosts} <= {"unchanged", "still open"}
    assert len(diff.hosts) == len({f.host for f in changed.evaluation.findings}) * len(KBS)
    document = json.loads((tmp_path / "diff" / "baseline-diff.json").read_text())
    assert document["kbs"] == KBS and {h["kb"] for h in document["hosts"]} == set(KBS)


def test_a_newer_kb_of_the_set_supersedes_an_older_one(tmp_path: Path) -> None:
    """Two KBs replacing aqueue.dll on the same rows: a host at the newer version is
    compliant with both, and the older KB's finding names the newer one."""
    newer = json.loads((data_dir() / "kb" / "KB934709.json").read_text())
    newer["id"] = "KB950001"
    newer["title"] = "A later aqueue.dll hotfix (made up for this test)"
    newer["installed_evidence"]["hotfix_ids"] = ["KB950001"]
    for table in newer["tables"]:
        for row in table["rows"]:
            if row["version"] == "6.0.3790.4094":
                row["version"] = "6.0.3790.4300"
    kb_dir = tmp_path / "kbs"
    kb_dir.mkdir()
    (kb_dir / "KB950001.json").write_text(json.dumps(newer))
    outcome = app.evaluate_facts(DEMO, ["KB934709", "KB950001"], tmp_path / "out",
                                 [OutputFormat.JSON], kb_dir)  # fmt: skip
    by_pair = {(f.host, f.kb_id): f for f in outcome.evaluation.findings}
    at_newer = by_pair[("lon-smtp03", "KB934709")]  # aqueue.dll 6.0.3790.4300, QFE
    assert at_newer.status.value == "COMPLIANT"
    assert at_newer.reason.endswith(
        "; superseded by KB950001, whose 6.0.3790.4300 of the same file the host also has"
    )
    assert by_pair[("lon-smtp03", "KB950001")].status.value == "COMPLIANT"
    at_older = by_pair[("lon-smtp01", "KB934709")]  # 6.0.3790.4094: the older fix only
    assert at_older.status.value == "COMPLIANT" and "superseded" not in at_older.reason
    assert by_pair[("lon-smtp01", "KB950001")].status.value == "NEEDS_HOTFIX"
