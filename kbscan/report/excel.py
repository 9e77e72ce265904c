"""The remediation workbook: what the change board, the server owners and the auditors
actually read.

Written with openpyxl in write-only mode, row by row, so a 100,000-host fleet costs the
findings' memory and not a workbook's; pandas builds the summary's pivots. Every string
a host could have sent is written as a string cell (never a formula, whatever it starts
with), with characters XML cannot hold replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation

from kbscan.model import ACTION_STATUSES, BELIEVED_SERVICE_PACK, Finding, KbDefinition, Status
from kbscan.report.interface import Evaluation
from kbscan.report.rows import platform_label

# Fill and font colours per status: the conventional good/bad/neutral palette of Excel's
# own conditional formats, so the sheet reads as people expect.
STATUS_COLOURS = {
    Status.COMPLIANT: ("C6EFCE", "006100"),
    Status.NEEDS_HOTFIX: ("FFC7CE", "9C0006"),
    Status.NEEDS_SERVICE_PACK: ("FF9E9E", "7A0000"),
    Status.RESTART_PENDING: ("FFEB9C", "9C5700"),
    Status.SUSPECT: ("E4DFEC", "5B2C6F"),
    Status.UNKNOWN: ("D9D9D9", "3A3A3A"),
    Status.NOT_APPLICABLE: ("DDEBF7", "1F4E78"),
}
ACTION_ORDER = list(ACTION_STATUSES)
DONE_CHOICES = "Yes,No,Deferred,Not needed"
SHEETS = ("Summary", "Remediation", "Hosts", "Unreachable", "KB")
CHART_ROWS = 17
LINE_HEIGHT = 15  # points per line of 11-point text


def safe_text(value: str) -> str:
    """Text XML can hold: control characters a host sent become U+FFFD."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    value: Callable[[Finding], Any]
    kind: str = "text"  # text | status | wrap (long text, wrapped)


class Book:
    def __init__(self, evaluation: Evaluation) -> None:
        self.ev = evaluation
        self.kb = evaluation.kbs[0]  # the KB of a single-KB book; a set's sheets look up each
        self.wb = Workbook(write_only=True)
        self.styles = self._styles()
        self._templates: dict[str, Any] = {}
        self.extra_keys = sorted(
            {k for f in evaluation.findings if f.facts.target for k, _ in f.facts.target.extra}
        )

    # --- styles ---------------------------------------------------------------------

    def _styles(self) -> dict[str, NamedStyle]:
        thin = Side(style="thin", color="808080")
        header = NamedStyle(
            name="kb_header",
            font=Font(bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor="305496"),
            alignment=Alignment(vertical="center", wrap_text=True),
            border=Border(bottom=thin),
        )
        styles = {"header": header}
        styles["title"] = NamedStyle(name="kb_title", font=Font(bold=True, size=16))
        styles["label"] = NamedStyle(name="kb_label", font=Font(bold=True))
        top = Alignment(vertical="top")
        styles["date"] = NamedStyle(name="kb_date", number_format="yyyy-mm-dd hh:mm", alignment=top)
        styles["top"] = NamedStyle(name="kb_top", alignment=top)
        styles["center"] = NamedStyle(name="kb_center", alignment=Alignment(horizontal="center"))
        styles["header_center"] = NamedStyle(
            name="kb_header_center",
            font=Font(bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor="305496"),
            alignment=Alignment(horizontal="center", vertical="center"),
        )
        styles["day"] = NamedStyle(name="kb_day", number_format="yyyy-mm-dd")
        styles["wrap"] = NamedStyle(
            name="kb_wrap", alignment=Alignment(wrap_text=True, vertical="top")
        )
        for status, (fill, font) in STATUS_COLOURS.items():
            styles[status.value] = NamedStyle(
                name=f"kb_{status.value.lower()}",
                font=Font(bold=True, color=font),
                fill=PatternFill("solid", fgColor=fill),
                alignment=top,
            )
        for style in styles.values():
            self.wb.add_named_style(style)
        return styles

    def cell(self, ws: WriteOnlyWorksheet, value: Any, style: str | None = None) -> Cell:
        if isinstance(value, str):
            c = WriteOnlyCell(ws, value=safe_text(value))
            c.data_type = "s"  # a string, whatever it starts with: never a formula
        elif isinstance(value, datetime):
            naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
            c = WriteOnlyCell(ws, value=naive)
            style = style or "date"
        else:
            c = WriteOnlyCell(ws, value=value)
        if style is not None:
            # Setting .style looks the named style up by name on every cell, a sixth of
            # the writing time; copying the style array of one styled cell is the same
            # result without the search.
            template = self._templates.get(style)
            if template is None:
                c.style = self.styles[style].name
                self._templates[style] = copy(c._style)  # type: ignore[attr-defined]
            else:
                c._style = copy(template)  # type: ignore[attr-defined]
        return c

    # --- sheets ---------------------------------------------------------------------

    def build(self) -> None:
        self.summary()
        self.table(
            "Remediation", self.remediation_columns(), self.remediation_rows(), done_column="Done"
        )
        self.table("Hosts", self.host_columns(), sorted(self.ev.findings, key=_host_key))
        unknown = [f for f in self.ev.findings if f.status is Status.UNKNOWN]
        self.table("Unreachable", self.unreachable_columns(), sorted(unknown, key=_host_key))
        self.kb_sheet()
        if self.ev.verdict is not None:
            self.gate_sheet()
        if self.ev.diff is not None:
            self.diff_sheet()

    def gate_sheet(self) -> None:
        v = self.ev.verdict
        assert v is not None
        ws = self.printable_sheet("Gate")
        for letter, width in zip("ABCDEF", (24, 22, 14, 22, 60, 10), strict=True):
            ws.column_dimensions[letter].width = width
        word = "PASSED" if v.passed else "FAILED"
        ws.append([self.cell(ws, f"{v.kb_id} change gate: {word}", "title")])
        ws.append(
            [
                self.cell(ws, "Policy", "label"),
                self.cell(ws, f"{v.policy.name} ({v.policy.source})"),
            ]
        )
        ws.append([self.cell(ws, "Judged on", "label"), self.cell(ws, v.today.isoformat())])
        for reason in v.reasons:
            ws.append([self.cell(ws, "Reason", "label"), self.cell(ws, reason)])
        ws.append([])
        ws.append(
            [
                self.cell(ws, h, "header")
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
                        self.cell(ws, state),
                        self.cell(ws, e.host),
                        self.cell(
                            ws, datetime(e.expires.year, e.expires.month, e.expires.day), "day"
                        ),
                        self.cell(ws, e.approver),
                        self.cell(ws, e.reason),
                        e.line,
                    ]
                )
        ws.append([])
        ws.append([self.cell(ws, h, "header") for h in ("Failing host", "Status", "Reason")])
        for h in v.failing:
            ws.append(
                [
                    self.cell(ws, self.pair(h.host, h.kb_id)),
                    self.cell(ws, h.status.value, h.status.value),
                    self.cell(ws, h.reason),
                ]
            )

    def pair(self, host: str, kb_id: str) -> str:
        """A host, and for a set the KB of the row: one row per (host, KB)."""
        return f"{host} {kb_id}" if self.ev.is_set and kb_id else host

    def diff_sheet(self) -> None:
        d = self.ev.diff
        assert d is not None
        ws = self.printable_sheet("Diff")
        ws.freeze_panes = "A2"
        headers = ("Host", "Change", "Before", "After", "Version before", "Version after")
        for letter, width in zip("ABCDEF", (22, 14, 21, 21, 17, 17), strict=True):
            ws.column_dimensions[letter].width = width
        ws.append([self.cell(ws, h, "header") for h in headers])
        for h in d.hosts:
            ws.append(
                [
                    self.cell(ws, self.pair(h.host, h.kb_id)),
                    self.cell(ws, h.change.value),
                    self.cell(ws, h.before.value, h.before.value) if h.before else None,
                    self.cell(ws, h.after.value, h.after.value) if h.after else None,
                    self.cell(ws, h.before_version or ""),
                    self.cell(ws, h.after_version or ""),
                ]
            )
        ws.auto_filter.ref = f"A1:F{len(d.hosts) + 1}"

    def printable_sheet(
        self, title: str
    ) -> Any:  # WriteOnlyWorksheet; its stubs lack most attributes
        """A sheet that prints as people bring it to a change board: landscape, one page
        wide, the header row repeated on every page."""
        ws = self.wb.create_sheet(title)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = "9"  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return ws

    def table(
        self,
        title: str,
        columns: Sequence[Column],
        findings: Iterable[Finding],
        done_column: str | None = None,
    ) -> int:
        ws = self.printable_sheet(title)
        ws.print_title_rows = "1:1"
        ws.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.row_dimensions[1].height = 2 * LINE_HEIGHT  # room for two-word headers
        ws.append([self.cell(ws, c.header, "header") for c in columns])
        count = 0
        for finding in findings:
            row = []
            lines = 1
            for column in columns:
                value = column.value(finding)
                if column.kind == "status":
                    row.append(self.cell(ws, value, value))
                elif column.kind == "wrap" and value:
                    row.append(self.cell(ws, value, "wrap"))
                    lines = max(lines, _wrapped_lines(str(value), column.width))
                elif isinstance(value, datetime):
                    row.append(self.cell(ws, value, "date"))
                else:
                    row.append(self.cell(ws, "" if value is None else value, "top"))
            if lines > 1:
                # write-only sheets cannot auto-fit; set the height wrapped text needs
                ws.row_dimensions[count + 2].height = min(LINE_HEIGHT * lines, 409)
            ws.append(row)
            count += 1
        last = get_column_letter(len(columns))
        ws.auto_filter.ref = f"A1:{last}{count + 1}"
        if done_column is not None and count:
            letter = get_column_letter([c.header for c in columns].index(done_column) + 1)
            choice = DataValidation(type="list", formula1=f'"{DONE_CHOICES}"', allow_blank=True)
            choice.add(f"{letter}2:{letter}{count + 1}")
            ws.data_validations.append(choice)
        return count

    def remediation_rows(self) -> list[Finding]:
        wanted = [f for f in self.ev.findings if f.status in ACTION_ORDER]
        return sorted(
            wanted, key=lambda f: (ACTION_ORDER.index(f.status), _site(f), f.host.lower())
        )

    def remediation_columns(self) -> list[Column]:
        kb = self.kb
        return [
            Column("Host", 16, lambda f: f.host),
            Column("Site", 11, _site),
            Column("Owner", 11, _owner),
            Column("Status", 23, lambda f: f.status.value, "status"),
            Column("OS", 28, lambda f: f.facts.os.caption if f.facts.os else None, "wrap"),
            Column("Platform", 16, _platform, "wrap"),
            Column("SP", 5, lambda f: _sp(f)),
            Column("Arch", 6, lambda f: f.architecture.value if f.architecture else None),
            Column("Branch", 7, _branch),
            Column("Installed version", 14, lambda f: _v(f.installed_version)),
            Column("Required version", 14, lambda f: _v(f.required_version)),
            Column("Package to apply", 34, lambda f: _package(kb, f), "wrap"),
            Column("Prerequisite", 16, lambda f: _prerequisite(kb, f), "wrap"),
            Column("Restart impact", 26, lambda f: f.restart_impact, "wrap"),
            Column("Action", 44, lambda f: f.action, "wrap"),
            Column("Reason", 44, lambda f: f.reason, "wrap"),
            Column("Change ticket", 13, lambda f: None),
            Column("Approver", 13, lambda f: None),
            Column("Planned window", 14, lambda f: None),
            Column("Done", 9, lambda f: None),
        ]

    def host_columns(self) -> list[Column]:
        columns = [
            Column("Host", 22, lambda f: f.host),
            Column("Site", 14, _site),
            Column("Owner", 14, _owner),
            Column("Status", 21, lambda f: f.status.value, "status"),
            Column("Reason", 50, lambda f: f.reason, "wrap"),
            Column("OS", 30, lambda f: f.facts.os.caption if f.facts.os else None, "wrap"),
            Column("OS version", 10, lambda f: f.facts.os.version if f.facts.os else None),
            Column("Platform (judged as)", 20, _platform),
            Column("Service pack (judged)", 10, _sp),
            Column("Architecture", 10, lambda f: f.architecture.value if f.architecture else None),
            Column("Branch", 8, _branch),
            Column("Matched row", 44, lambda f: f.row.heading if f.row else None),
            Column("File", 12, lambda f: f.row.name if f.row else None),
            Column("Required version", 17, lambda f: _v(f.required_version)),
            Column("Installed version", 17, lambda f: _v(f.installed_version)),
            Column("Version read from", 50, lambda f: f.version_source),
            Column("Decided by", 24, lambda f: f.decided_by.value),
            Column("Hotfix record", 12, _record),
            Column("Collected at", 17, lambda f: f.facts.collected_at),
            Column("Collector", 10, lambda f: f.facts.collector),
            Column("Action", 50, lambda f: f.action, "wrap"),
            Column("Evidence", 80, lambda f: " | ".join(f.evidence), "wrap"),
        ]
        for key in self.extra_keys:
            columns.append(Column(key, 14, partial(_extra, key=key)))
        if BELIEVED_SERVICE_PACK in self.extra_keys:  # AD's view beside the host's
            columns.append(
                Column("Inventory disagrees", 40, lambda f: f.inventory_disagrees, "wrap")
            )
        return columns

    def unreachable_columns(self) -> list[Column]:
        return [
            Column("Host", 22, lambda f: f.host),
            Column("Site", 14, _site),
            Column("Owner", 14, _owner),
            Column("Status", 12, lambda f: f.status.value, "status"),
            Column(
                "Failure",
                20,
                lambda f: f.facts.failure.category.value if f.facts.failure else "incomplete facts",
            ),
            Column(
                "Message", 70, lambda f: f.facts.failure.message if f.facts.failure else f.reason
            ),
            Column("What to try", 70, lambda f: f.action),
            Column("Collected at", 17, lambda f: f.facts.collected_at),
        ]

    def summary(self) -> None:
        ws = self.printable_sheet("Summary")
        ws.column_dimensions["A"].width = 28
        for letter in "BCDEFGHIJ":
            ws.column_dimensions[letter].width = 21
        ev, kb = self.ev, self.kb
        frame = _frame(ev.findings)
        rows = 0

        def put(*values: Any, style: str | None = None) -> None:
            nonlocal rows
            ws.append(
                [
                    self.cell(ws, v, style if i == 0 else None) if v is not None else None
                    for i, v in enumerate(values)
                ]
            )
            rows += 1

        put(f"{kb.id} remediation report", style="title")
        put(kb.title)
        put(None)
        put("KB", kb.id, style="label")
        put("Source of the file table", kb.source, style="label")
        put("Generated", ev.generated_at, style="label")
        put("Hosts from", ev.source, style="label")
        put("kbscan version", ev.kbscan_version, style="label")
        put("Hosts", len(ev.findings), style="label")
        needing = sum(1 for f in ev.findings if f.status in ACTION_ORDER)
        put("Hosts needing action", needing, style="label")
        put(None)
        ws.append(
            [self.cell(ws, "Status", "header")]
            + [self.cell(ws, h, "header_center") for h in ("Hosts", "Share")]
        )
        rows += 1
        first_status_row = rows + 1
        counts = ev.counts()
        total = max(1, len(ev.findings))
        for status in Status:
            ws.append(
                [
                    self.cell(ws, status.value, status.value),
                    self.cell(ws, counts[status], "center"),
                    self.share(ws, counts[status] / total),
                ]
            )
            rows += 1
        last_status_row = rows
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Hosts by status"
        chart.y_axis.title = "hosts"
        chart.legend = None
        chart.height, chart.width = 8, 16
        data = Reference(ws, min_col=2, min_row=first_status_row - 1, max_row=last_status_row)
        cats = Reference(ws, min_col=1, min_row=first_status_row, max_row=last_status_row)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        for _ in range(CHART_ROWS):  # room for the chart, below the table it draws
            ws.append([])
        ws.add_chart(chart, f"A{last_status_row + 2}")
        rows += CHART_ROWS
        for title, index in (
            ("By platform, service pack and architecture", "platform"),
            ("By site", "site"),
            ("By owner", "owner"),
        ):
            if index != "platform" and frame[index].eq("").all():
                continue
            rows += self.pivot(ws, title, frame, index, put)

    def share(self, ws: WriteOnlyWorksheet, value: float) -> Cell:
        c = WriteOnlyCell(ws, value=round(value, 4))
        c.number_format = "0.0%"
        c.alignment = Alignment(horizontal="center")
        return c

    def pivot(
        self,
        ws: WriteOnlyWorksheet,
        title: str,
        frame: pd.DataFrame,
        index: str,
        put: Callable[..., None],
    ) -> int:
        table = pd.crosstab(frame[index].replace("", "(none)"), frame["status"])
        ordered = [s.value for s in Status if s.value in table.columns]
        table = table[ordered]
        put(None)
        put(title, style="label")
        label = index.replace("_", " / ")
        ws.append(
            [self.cell(ws, label, "header")]
            + [self.cell(ws, h, "header_center") for h in [*ordered, "Total"]]
        )
        for key, counts in table.iterrows():
            values = [int(v) for v in counts.tolist()]
            ws.append(
                [self.cell(ws, str(key))]
                + [self.cell(ws, v, "center") for v in [*values, sum(values)]]
            )
        return 3 + len(table)

    def kb_sheet(self) -> None:
        ws = self.printable_sheet("KB")
        kb = self.kb
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
        ws.append([self.cell(ws, h, "header") for h in headers])
        for r in kb.files:
            date_cell = (
                self.cell(ws, datetime(r.date.year, r.date.month, r.date.day), "day")
                if r.date
                else None
            )
            ws.append(
                [
                    self.cell(ws, r.heading),
                    r.service_pack,
                    self.cell(ws, r.architecture.value),
                    self.cell(ws, r.name),
                    self.cell(ws, str(r.version) if r.version else "not published"),
                    r.size,
                    date_cell,
                    self.cell(ws, r.time or ""),
                    self.cell(ws, r.platform),
                    self.cell(ws, r.service_branch or ""),
                    self.cell(ws, r.path),
                ]
            )
        ws.auto_filter.ref = f"A1:K{len(kb.files) + 1}"
        ws.append([])
        rules = [
            ("KB", f"{kb.id}: {kb.title}"),
            ("Source", kb.source),
            ("KB file", kb.origin),
            ("Platforms", kb.describe_platforms()),
            ("Prerequisite", kb.prerequisite_text),
            (
                "Requires",
                ", ".join(f"{s.display_name} ({s.name})" for s in kb.required_services)
                or "nothing",
            ),
            (
                "Not for",
                "; ".join(
                    f"{p.name} {'/'.join(p.versions)}: {p.reason}" for p in kb.excluded_products
                )
                or "no exclusions",
            ),
            ("Restart", kb.restart.text),
            ("Installed when recorded as", ", ".join(kb.hotfix_ids)),
        ]
        for label, text in rules:
            ws.append([self.cell(ws, label, "label"), self.cell(ws, text)])


def _wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs, by the column's width in characters (word wrap loses
    about a tenth of each line)."""
    usable = max(1.0, width * 0.9)
    return sum(max(1, -(-len(part) // int(usable))) for part in text.split("\n"))


def _frame(findings: Sequence[Finding]) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            "status": [f.status.value for f in findings],
            "platform": [platform_label(f) or "(not judged)" for f in findings],
            "site": [_site(f) for f in findings],
            "owner": [_owner(f) for f in findings],
        },
        columns=["status", "platform", "site", "owner"],
    )
    return frame


def _host_key(f: Finding) -> str:
    return f.host.lower()


def _site(f: Finding) -> str:
    return (f.facts.target.site if f.facts.target else None) or ""


def _owner(f: Finding) -> str:
    return (f.facts.target.owner if f.facts.target else None) or ""


def _extra(f: Finding, key: str) -> str:
    return dict(f.facts.target.extra).get(key, "") if f.facts.target else ""


def _sp(f: Finding) -> str | None:
    return None if f.service_pack is None else f"SP{f.service_pack}"


def _v(version: object) -> str | None:
    return None if version is None else str(version)


def _platform(f: Finding) -> str | None:
    return f.platform.name if f.platform else None


def _branch(f: Finding) -> str | None:
    return f.row.service_branch if f.row else None


def _record(f: Finding) -> str:
    recorded = f.hotfix_recorded
    return "not collected" if recorded is None else "present" if recorded else "absent"


def _package(kb: KbDefinition, f: Finding) -> str | None:
    if f.row is None or f.status is Status.SUSPECT or f.platform is None:
        return None
    level = f.service_pack if f.row.service_pack is None else f.row.service_pack
    scope = kb.package_scope(f.platform, level, f.row.architecture, f.row.service_branch)
    return f"{kb.id} for {scope}"


def _prerequisite(kb: KbDefinition, f: Finding) -> str:
    need = kb.requirement(f.platform.id) if f.platform else None
    if need is None or not need.service_packs:
        return "None stated"
    if f.status is Status.NEEDS_SERVICE_PACK:
        return f"Install {need.platform.name} SP{need.remedy_service_pack} first"
    return " or ".join(f"SP{s}" for s in need.service_packs) + " (met)"
