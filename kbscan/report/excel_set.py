"""The workbook for a set of KBs (a baseline): one maintenance window per host.

A change board approving a baseline wants, per host, everything the host lacks, in the
order to install it, with one restart window; and, per KB, how far the fleet is. So the
set workbook is the single-KB workbook turned around: Summary (counts per KB and by
worst status), Matrix (host x KB, status colours, KB ids as vertical headers so twenty
KBs fit a screen), Remediation (one row per host), Findings (one row per (host, KB) that
needs action, to filter), Hosts, Unreachable and KBs. Styles, safe cells and print
setup are the single-KB workbook's own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from kbscan.model import Finding, KbDefinition, Status
from kbscan.report.excel import (
    ACTION_ORDER,
    CHART_ROWS,
    Book,
    Column,
    _branch,
    _host_key,
    _owner,
    _package,
    _platform,
    _prerequisite,
    _site,
    _sp,
    _v,
)
from kbscan.report.interface import Evaluation

SHORT = {
    Status.COMPLIANT: "OK",
    Status.NEEDS_HOTFIX: "HOTFIX",
    Status.NEEDS_SERVICE_PACK: "SP",
    Status.RESTART_PENDING: "RESTART",
    Status.SUSPECT: "SUSPECT",
    Status.UNKNOWN: "?",
    Status.NOT_APPLICABLE: "n/a",
}
_ORDER = list(Status)  # severity order


def worst(findings: list[Finding]) -> Status:
    """The host's most pressing status; a KB that does not apply says nothing about the
    host unless none applies."""
    judged = [f.status for f in findings if f.status is not Status.NOT_APPLICABLE]
    return min(judged, key=_ORDER.index) if judged else Status.NOT_APPLICABLE


class SetBook(Book):
    def __init__(self, evaluation: Evaluation) -> None:
        self.kbs: dict[str, KbDefinition] = {kb.id: kb for kb in evaluation.kbs}
        super().__init__(evaluation)
        self.by_host: dict[str, list[Finding]] = {}
        for f in evaluation.findings:
            self.by_host.setdefault(f.host, []).append(f)
        self.hosts = sorted(self.by_host, key=str.lower)

    def build(self) -> None:
        self.set_summary()
        self.matrix()
        self.host_remediation()
        actions = [f for f in self.ev.findings if f.status in ACTION_ORDER]
        actions.sort(key=lambda f: (ACTION_ORDER.index(f.status), _site(f), f.host.lower()))
        self.table("Findings", self.finding_columns(), actions, done_column="Done")
        self.host_sheet()
        unknown = [fs[0] for h in self.hosts if (fs := self.by_host[h])[0].facts.failure]
        self.table("Unreachable", self.unreachable_columns(), sorted(unknown, key=_host_key))
        self.kbs_sheet()
        if self.ev.verdict is not None:
            self.gate_sheet()
        if self.ev.diff is not None:
            self.diff_sheet()

    # --- Summary --------------------------------------------------------------------

    def set_summary(self) -> None:
        ws = self.printable_sheet("Summary")
        ws.column_dimensions["A"].width = 28
        for letter in "BCDEFGHIJ":
            ws.column_dimensions[letter].width = 14
        ev = self.ev

        def put(*values: Any, style: str | None = None) -> None:
            ws.append(
                [
                    self.cell(ws, v, style if i == 0 else None) if v is not None else None
                    for i, v in enumerate(values)
                ]
            )

        put(f"{ev.stem}: baseline report", style="title")
        put(", ".join(kb.id for kb in ev.kbs))
        put(None)
        put("Baseline", ev.stem, style="label")
        put("Baseline file", ev.set_source or "named on the command line", style="label")
        put("Generated", ev.generated_at, style="label")
        put("Hosts from", ev.source, style="label")
        put("kbscan version", ev.kbscan_version, style="label")
        put("Hosts", len(self.hosts), style="label")
        put("KBs", len(ev.kbs), style="label")
        needing = sum(
            1 for h in self.hosts if any(f.status in ACTION_ORDER for f in self.by_host[h])
        )
        put("Hosts needing action", needing, style="label")
        put(None)
        ws.append(
            [self.cell(ws, "KB", "header")]
            + [self.cell(ws, s.value, "header_center") for s in Status]
            + [self.cell(ws, "Needing action", "header_center")]
        )
        for kb in ev.kbs:
            counted = Counter(f.status for f in ev.findings if f.kb_id == kb.id)
            ws.append(
                [self.cell(ws, kb.id, "label")]
                + [self.cell(ws, counted.get(s, 0), "center") for s in Status]
                + [self.cell(ws, sum(counted.get(s, 0) for s in ACTION_ORDER), "center")]
            )
        ws.append([])
        ws.append(
            [self.cell(ws, "Worst status of each host", "header")]
            + [self.cell(ws, h, "header_center") for h in ("Hosts", "Share")]
        )
        first = 16 + len(ev.kbs)  # the row after this header, counted from the top
        worst_counts = Counter(worst(self.by_host[h]) for h in self.hosts)
        for status in Status:
            ws.append(
                [
                    self.cell(ws, status.value, status.value),
                    self.cell(ws, worst_counts.get(status, 0), "center"),
                    self.share(ws, worst_counts.get(status, 0) / max(1, len(self.hosts))),
                ]
            )
        last = first + len(Status) - 1
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Hosts by worst status"
        chart.y_axis.title = "hosts"
        chart.legend = None
        chart.height, chart.width = 8, 16
        chart.add_data(
            Reference(ws, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        ws.add_chart(chart, f"A{last + 2}")
        for _ in range(CHART_ROWS):
            ws.append([])

    # --- Matrix ---------------------------------------------------------------------

    def matrix(self) -> None:
        """Host x KB: one coloured cell per pair; KB ids stand upright so 20 KBs fit."""
        ws = self.printable_sheet("Matrix")
        ws.print_title_rows = "1:1"
        fixed = ("Host", "Site", "Worst status", "KBs needing action")
        widths = (20, 12, 23, 9)
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        for index in range(len(fixed) + 1, len(fixed) + len(self.ev.kbs) + 1):
            ws.column_dimensions[get_column_letter(index)].width = 9.5
        ws.row_dimensions[1].height = 80
        # a write-only sheet takes its view before the first row: hosts and KB ids stay put
        ws.freeze_panes = f"{get_column_letter(len(fixed) + 1)}2"
        header = [self.cell(ws, h, "header") for h in fixed]
        for kb in self.ev.kbs:
            c = self.cell(ws, kb.id, "header_center")
            c.alignment = Alignment(text_rotation=90, horizontal="center", vertical="bottom")
            header.append(c)
        ws.append(header)
        for host in self.hosts:
            findings = {f.kb_id: f for f in self.by_host[host]}
            status = worst(self.by_host[host])
            needing = sum(1 for f in findings.values() if f.status in ACTION_ORDER)
            row: list[Any] = [
                self.cell(ws, host),
                self.cell(ws, _site(self.by_host[host][0])),
                self.cell(ws, status.value, status.value),
                self.cell(ws, needing, "center"),
            ]
            for kb in self.ev.kbs:
                f = findings.get(kb.id)
                row.append(
                    self.cell(ws, SHORT[f.status], f.status.value) if f is not None else None
                )
            ws.append(row)
        totals: list[Any] = [self.cell(ws, "Hosts needing action", "label"), None, None, None]
        for kb in self.ev.kbs:
            count = sum(
                1 for f in self.ev.findings if f.kb_id == kb.id and f.status in ACTION_ORDER
            )
            totals.append(self.cell(ws, count, "center"))
        ws.append(totals)
        last = get_column_letter(len(fixed) + len(self.ev.kbs))
        ws.auto_filter.ref = f"A1:{last}{len(self.hosts) + 1}"

    # --- Remediation, one row per host ----------------------------------------------------

    def host_remediation(self) -> None:
        rows = [h for h in self.hosts if any(f.status in ACTION_ORDER for f in self.by_host[h])]
        rows.sort(key=lambda h: (ACTION_ORDER.index(worst_action(self.by_host[h])), h.lower()))
        first = {h: self.by_host[h][0] for h in rows}
        columns = [
            Column("Host", 16, lambda f: f.host),
            Column("Site", 11, _site),
            Column("Owner", 11, _owner),
            Column("Worst status", 23,
                   lambda f: worst_action(self.by_host[f.host]).value, "status"),
            Column("OS", 26, lambda f: f.facts.os.caption if f.facts.os else None, "wrap"),
            Column("Platform", 16, lambda f: next(
                (p for x in self.by_host[f.host] if (p := _platform(x))), None), "wrap"),
            Column("KBs", 14, lambda f: ", ".join(
                x.kb_id for x in self.by_host[f.host] if x.status in ACTION_ORDER), "wrap"),
            Column("Install, in this order", 60, lambda f: self.install_plan(f.host), "wrap"),
            Column("Restart window", 30, lambda f: self.restart_window(f.host), "wrap"),
            Column("Investigate first", 40, lambda f: self.investigate(f.host), "wrap"),
            Column("Change ticket", 13, lambda f: None),
            Column("Approver", 13, lambda f: None),
            Column("Planned window", 14, lambda f: None),
            Column("Done", 9, lambda f: None),
        ]  # fmt: skip
        self.table("Remediation", columns, [first[h] for h in rows], done_column="Done")

    def install_plan(self, host: str) -> str:
        """Service pack first, then each KB's package, in the set's order. After a service
        pack, each package is the one for the new level, not the level the host is at."""
        findings = self.by_host[host]
        steps: list[str] = []
        packs = [f for f in findings if f.status is Status.NEEDS_SERVICE_PACK]
        remedies = [r for f in packs if (r := _remedy(self.kbs[f.kb_id], f)) is not None]
        level: int | None = None
        if remedies:
            release, level = max(remedies, key=lambda r: r[1])
            steps.append(f"{release} Service Pack {level}")
        for f in findings:
            if f.status in (Status.NEEDS_HOTFIX, Status.NEEDS_SERVICE_PACK):
                kb = self.kbs[f.kb_id]
                if level is not None and f.platform and f.architecture:
                    need = kb.requirement(f.platform.id)
                    if need is not None and (not need.service_packs or level in need.service_packs):
                        scope = kb.package_scope(f.platform, level, f.architecture)
                        steps.append(f"{kb.id} for {scope}")
                        continue
                steps.append(_package(kb, f) or f"{f.kb_id} (see Findings)")
        return "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1))

    def restart_window(self, host: str) -> str:
        findings = [f for f in self.by_host[host] if f.status in ACTION_ORDER]
        if not findings:
            return ""
        kinds = {f.restart_impact for f in findings}
        if any(f.server_restart for f in findings):
            return "Server restart (covers every service restart)"
        return "; ".join(sorted(k for k in kinds if k != "None")) or "None"

    def investigate(self, host: str) -> str:
        return "\n".join(
            f"{f.kb_id}: {f.reason}" for f in self.by_host[host] if f.status is Status.SUSPECT
        )

    def finding_columns(self) -> list[Column]:
        return [
            Column("Host", 16, lambda f: f.host),
            Column("Site", 11, _site),
            Column("KB", 11, lambda f: f.kb_id),
            Column("Status", 21, lambda f: f.status.value, "status"),
            Column("Platform", 16, _platform, "wrap"),
            Column("SP", 5, _sp),
            Column("Arch", 6, lambda f: f.architecture.value if f.architecture else None),
            Column("Branch", 7, _branch),
            Column("Installed version", 14, lambda f: _v(f.installed_version)),
            Column("Required version", 14, lambda f: _v(f.required_version)),
            Column("Package to apply", 34, lambda f: _package(self.kbs[f.kb_id], f), "wrap"),
            Column("Prerequisite", 16, lambda f: _prerequisite(self.kbs[f.kb_id], f), "wrap"),
            Column("Restart impact", 26, lambda f: f.restart_impact, "wrap"),
            Column("Reason", 44, lambda f: f.reason, "wrap"),
            Column("Done", 9, lambda f: None),
        ]

    # --- Hosts and KBs --------------------------------------------------------------

    def host_sheet(self) -> None:
        columns = [
            Column("Host", 22, lambda f: f.host),
            Column("Site", 14, _site),
            Column("Owner", 14, _owner),
            Column("Worst status", 21, lambda f: worst(self.by_host[f.host]).value, "status"),
            Column("OS", 30, lambda f: f.facts.os.caption if f.facts.os else None, "wrap"),
            Column("OS version", 10, lambda f: f.facts.os.version if f.facts.os else None),
            Column("Architecture", 10, lambda f: f.facts.architecture.value
                   if f.facts.architecture else None),
            Column("Statuses", 60, lambda f: ", ".join(
                f"{x.kb_id} {x.status.value}" for x in self.by_host[f.host]), "wrap"),
            Column("Collected at", 17, lambda f: f.facts.collected_at),
            Column("Collector", 10, lambda f: f.facts.collector),
        ]  # fmt: skip
        self.table("Hosts", columns, [self.by_host[h][0] for h in self.hosts])

    def kbs_sheet(self) -> None:
        ws = self.printable_sheet("KBs")
        ws.freeze_panes = "A2"
        headers = ("KB", "Title", "Platforms and service packs", "Rows", "Restart", "Source",
                   "KB file")  # fmt: skip
        for letter, width in zip("ABCDEFG", (11, 50, 50, 7, 40, 50, 40), strict=True):
            ws.column_dimensions[letter].width = width
        ws.append([self.cell(ws, h, "header") for h in headers])
        for kb in self.ev.kbs:
            ws.append(
                [
                    self.cell(ws, kb.id),
                    self.cell(ws, kb.title, "wrap"),
                    self.cell(ws, kb.describe_platforms(), "wrap"),
                    self.cell(ws, len(kb.files), "center"),
                    self.cell(ws, kb.restart.text, "wrap"),
                    self.cell(ws, kb.source, "wrap"),
                    self.cell(ws, kb.origin, "wrap"),
                ]
            )
        ws.auto_filter.ref = f"A1:G{len(self.ev.kbs) + 1}"


def worst_action(findings: list[Finding]) -> Status:
    return min((f.status for f in findings if f.status in ACTION_ORDER), key=ACTION_ORDER.index)


def _remedy(kb: KbDefinition, f: Finding) -> tuple[str, int] | None:
    need = kb.requirement(f.platform.id) if f.platform else None
    if need is None or need.remedy_service_pack is None:
        return None
    return need.platform.name, need.remedy_service_pack
