"""The remediation workbook: what the change board, the server owners and the auditors
actually read, one book for any set of KBs.

A host has a finding per KB of the set. Where the set holds one KB, that finding is the
host's whole plan, and the book shows it in full: Summary (counts and pivots), Remediation
(one row per host needing action), Hosts, Unreachable and the KB's file table. Where it
holds several, a host needs one maintenance window for them all, so the book turns
around: Summary per KB and by worst status, Matrix (host x KB), Remediation (one row per
host, everything it lacks in install order), Findings (one row per (host, KB) to filter),
Hosts, Unreachable and KBs. The gate's and the diff's sheets follow when a run has them.
The judge decided every value; the sheets only lay it out.
"""

from __future__ import annotations

from collections.abc import Callable

from openpyxl import Workbook

from kbscan.model import Finding, Status
from kbscan.report import excel_columns as columns
from kbscan.report.excel_cells import Sheets
from kbscan.report.excel_sheets import diff_sheet, gate_sheet, kb_sheet, kbs_sheet, matrix
from kbscan.report.excel_summary import kb_summary, set_summary
from kbscan.report.interface import Evaluation

SHEETS = ("Summary", "Remediation", "Hosts", "Unreachable", "KB")  # a book of one KB
SET_SHEETS = ("Summary", "Matrix", "Remediation", "Findings", "Hosts", "Unreachable", "KBs")

Sheet = Callable[[Sheets, Evaluation], None]


def book(evaluation: Evaluation) -> Workbook:
    """The workbook of an evaluation, every sheet written."""
    sheets = Sheets()
    for write in layout(evaluation):
        write(sheets, evaluation)
    return sheets.wb


def layout(evaluation: Evaluation) -> list[Sheet]:
    """The sheets, in order: per finding for one KB, per host and KB for several."""
    chosen: list[Sheet]
    if not evaluation.several:
        chosen = [kb_summary, kb_remediation, kb_hosts, kb_unreachable, kb_sheet]
    else:
        chosen = [set_summary, matrix, host_remediation, set_findings, host_statuses]
        chosen += [set_unreachable, kbs_sheet]
    if evaluation.verdict is not None:
        chosen.append(gate_sheet)
    if evaluation.diff is not None:
        chosen.append(diff_sheet)
    return chosen


def kb_remediation(s: Sheets, ev: Evaluation) -> None:
    s.table("Remediation", columns.remediation(), _actions(ev.findings), done_column="Done")


def kb_hosts(s: Sheets, ev: Evaluation) -> None:
    extra = sorted({k for f in ev.findings if f.facts.target for k, _ in f.facts.target.extra})
    s.table("Hosts", columns.hosts(extra), sorted(ev.findings, key=_host_key))


def kb_unreachable(s: Sheets, ev: Evaluation) -> None:
    unknown = [f for f in ev.findings if f.status is Status.UNKNOWN]
    s.table("Unreachable", columns.unreachable(), sorted(unknown, key=_host_key))


def host_remediation(s: Sheets, ev: Evaluation) -> None:
    plans = [p for p in ev.plans if p.worst_action is not None]
    plans.sort(key=lambda p: (p.worst_action.severity if p.worst_action else 0, p.host.lower()))
    s.table("Remediation", columns.host_remediation(), plans, done_column="Done")


def set_findings(s: Sheets, ev: Evaluation) -> None:
    s.table("Findings", columns.findings(), _actions(ev.findings), done_column="Done")


def host_statuses(s: Sheets, ev: Evaluation) -> None:
    s.table("Hosts", columns.host_statuses(), ev.plans)


def set_unreachable(s: Sheets, ev: Evaluation) -> None:
    failed = [p.first for p in ev.plans if p.first.facts.failure]
    s.table("Unreachable", columns.unreachable(), sorted(failed, key=_host_key))


def _actions(findings: tuple[Finding, ...]) -> list[Finding]:
    """The findings that ask for work, most pressing first, then by site and host."""
    wanted = [f for f in findings if f.status.needs_action]
    return sorted(wanted, key=lambda f: (f.status.severity, columns.site(f), f.host.lower()))


def _host_key(f: Finding) -> str:
    return f.host.lower()
