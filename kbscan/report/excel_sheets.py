"""The workbook's reference sheets: the KB's file table, the set's KBs, the host x KB
matrix, and the gate's and the diff's records when a run has them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from kbscan.model import Status
from kbscan.report.excel_cells import Sheets
from kbscan.report.excel_columns import site
from kbscan.report.interface import Evaluation
from kbscan.report.rows import kb_rules

# A matrix cell: the status in a word that fits a narrow column.
SHORT = {
    Status.COMPLIANT: "OK",
    Status.NEEDS_HOTFIX: "HOTFIX",
    Status.NEEDS_SERVICE_PACK: "SP",
    Status.RESTART_PENDING: "RESTART",
    Status.SUSPECT: "SUSPECT",
    Status.UNKNOWN: "?",
    Status.NOT_APPLICABLE: "n/a",
}


def pair(ev: Evaluation, host: str, kb_id: str) -> str:
    """A host, and where the book holds several KBs the KB of the row."""
    return f"{host} {kb_id}" if ev.several and kb_id else host


def gate_sheet(s: Sheets, ev: Evaluation) -> None:
    v = ev.verdict
    assert v is not None
    ws = s.printable_sheet("Gate")
    for letter, width in zip("ABCDEF", (24, 22, 14, 22, 60, 10), strict=True):
        ws.column_dimensions[letter].width = width
    word = "PASSED" if v.passed else "FAILED"
    ws.append([s.cell(ws, f"{v.kb_id} change gate: {word}", "title")])
    ws.append(
        [
            s.cell(ws, "Policy", "label"),
            s.cell(ws, f"{v.policy.name} ({v.policy.source})"),
        ]
    )
    ws.append([s.cell(ws, "Judged on", "label"), s.cell(ws, v.today.isoformat())])
    for reason in v.reasons:
        ws.append([s.cell(ws, "Reason", "label"), s.cell(ws, reason)])
    ws.append([])
    ws.append(
        [
            s.cell(ws, h, "header")
            for h in ("Exemption", "Host", "Expires", "Approver", "Reason", "Line")
        ]
    )
    for state, group in (
        ("used", v.exemptions_used),
        ("expired", v.exemptions_expired),
        ("unused", v.exemptions_unused),
    ):
        for e in group:
            ws.append(
                [
                    s.cell(ws, state),
                    s.cell(ws, e.host),
                    s.cell(ws, datetime(e.expires.year, e.expires.month, e.expires.day), "day"),
                    s.cell(ws, e.approver),
                    s.cell(ws, e.reason),
                    e.line,
                ]
            )
    ws.append([])
    ws.append([s.cell(ws, h, "header") for h in ("Failing host", "Status", "Reason")])
    for h in v.failing:
        ws.append(
            [
                s.cell(ws, pair(ev, h.host, h.kb_id)),
                s.cell(ws, h.status.value, h.status.value),
                s.cell(ws, h.reason),
            ]
        )


def diff_sheet(s: Sheets, ev: Evaluation) -> None:
    d = ev.diff
    assert d is not None
    ws = s.printable_sheet("Diff")
    ws.freeze_panes = "A2"
    headers = ("Host", "Change", "Before", "After", "Version before", "Version after")
    for letter, width in zip("ABCDEF", (22, 14, 21, 21, 17, 17), strict=True):
        ws.column_dimensions[letter].width = width
    ws.append([s.cell(ws, h, "header") for h in headers])
    for h in d.hosts:
        ws.append(
            [
                s.cell(ws, pair(ev, h.host, h.kb_id)),
                s.cell(ws, h.change.value),
                s.cell(ws, h.before.value, h.before.value) if h.before else None,
                s.cell(ws, h.after.value, h.after.value) if h.after else None,
                s.cell(ws, h.before_version or ""),
                s.cell(ws, h.after_version or ""),
            ]
        )
    ws.auto_filter.ref = f"A1:F{len(d.hosts) + 1}"


def kb_sheet(s: Sheets, ev: Evaluation) -> None:
    ws = s.printable_sheet("KB")
    kb = ev.kbs[0]
    widths = [52, 8, 12, 14, 16, 12, 12, 8, 10, 8, 44]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    headers = [
        "Heading (as published)",
        "SP",
        "Architecture",
        "File",
        "Version",
        "Size",
        "Date (UTC)",
        "Time",
        "Platform",
        "Branch",
        "Path on the host",
    ]
    ws.freeze_panes = "A2"
    ws.append([s.cell(ws, h, "header") for h in headers])
    for r in kb.files:
        date_cell = (
            s.cell(ws, datetime(r.date.year, r.date.month, r.date.day), "day") if r.date else None
        )
        ws.append(
            [
                s.cell(ws, r.heading),
                r.service_pack,
                s.cell(ws, r.architecture.value),
                s.cell(ws, r.name),
                s.cell(ws, str(r.version) if r.version else "not published"),
                r.size,
                date_cell,
                s.cell(ws, r.time or ""),
                s.cell(ws, r.platform),
                s.cell(ws, r.service_branch or ""),
                s.cell(ws, r.path),
            ]
        )
    ws.auto_filter.ref = f"A1:K{len(kb.files) + 1}"
    ws.append([])
    rules = [
        ("KB", f"{kb.id}: {kb.title}"),
        ("Source", kb.source),
        ("KB file", kb.origin),
        *kb_rules(kb, reasons=True),
    ]
    for label, text in rules:
        ws.append([s.cell(ws, label, "label"), s.cell(ws, text)])


def matrix(s: Sheets, ev: Evaluation) -> None:
    """Host x KB: one coloured cell per pair; KB ids stand upright so 20 KBs fit."""
    ws = s.printable_sheet("Matrix")
    ws.print_title_rows = "1:1"
    fixed = ("Host", "Site", "Worst status", "KBs needing action")
    widths = (20, 12, 23, 9)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for index in range(len(fixed) + 1, len(fixed) + len(ev.kbs) + 1):
        ws.column_dimensions[get_column_letter(index)].width = 9.5
    ws.row_dimensions[1].height = 80
    # a write-only sheet takes its view before the first row: hosts and KB ids stay put
    ws.freeze_panes = f"{get_column_letter(len(fixed) + 1)}2"
    header = [s.cell(ws, h, "header") for h in fixed]
    for kb in ev.kbs:
        c = s.cell(ws, kb.id, "header_center")
        c.alignment = Alignment(text_rotation=90, horizontal="center", vertical="bottom")
        header.append(c)
    ws.append(header)
    for plan in ev.plans:
        findings = {f.kb_id: f for f in plan.findings}
        status = plan.worst
        needing = len(plan.kbs_needing_action)
        row: list[Any] = [
            s.cell(ws, plan.host),
            s.cell(ws, site(plan.first)),
            s.cell(ws, status.value, status.value),
            s.cell(ws, needing, "center"),
        ]
        for kb in ev.kbs:
            f = findings.get(kb.id)
            row.append(s.cell(ws, SHORT[f.status], f.status.value) if f is not None else None)
        ws.append(row)
    totals: list[Any] = [s.cell(ws, "Hosts needing action", "label"), None, None, None]
    for kb in ev.kbs:
        count = sum(1 for f in ev.findings if f.kb_id == kb.id and f.status.needs_action)
        totals.append(s.cell(ws, count, "center"))
    ws.append(totals)
    last = get_column_letter(len(fixed) + len(ev.kbs))
    ws.auto_filter.ref = f"A1:{last}{len(ev.plans) + 1}"


def kbs_sheet(s: Sheets, ev: Evaluation) -> None:
    ws = s.printable_sheet("KBs")
    ws.freeze_panes = "A2"
    headers = ("KB", "Title", "Platforms and service packs", "Rows", "Restart", "Source",
               "KB file")  # fmt: skip
    for letter, width in zip("ABCDEFG", (11, 50, 50, 7, 40, 50, 40), strict=True):
        ws.column_dimensions[letter].width = width
    ws.append([s.cell(ws, h, "header") for h in headers])
    for kb in ev.kbs:
        ws.append(
            [
                s.cell(ws, kb.id),
                s.cell(ws, kb.title, "wrap"),
                s.cell(ws, kb.describe_platforms(), "wrap"),
                s.cell(ws, len(kb.files), "center"),
                s.cell(ws, kb.restart.text, "wrap"),
                s.cell(ws, kb.source, "wrap"),
                s.cell(ws, kb.origin, "wrap"),
            ]
        )
    ws.auto_filter.ref = f"A1:G{len(ev.kbs) + 1}"
