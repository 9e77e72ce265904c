"""The Summary sheet: the first page a change board reads.

Of one KB: the KB, the counts by status with a chart, and pivots by platform, site and
owner (pandas). Of a set: each KB's counts, and each host by its worst status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from openpyxl.chart import BarChart, Reference

from kbscan.model import Finding, Status
from kbscan.report.excel_cells import CHART_ROWS, Sheets
from kbscan.report.excel_columns import owner, site
from kbscan.report.interface import Evaluation
from kbscan.report.rows import platform_label

Put = Callable[..., None]


def _opened(s: Sheets, width: float) -> tuple[Any, Put]:
    """The sheet, and a writer of label/value rows whose first cell takes a style."""
    ws = s.printable_sheet("Summary")
    ws.column_dimensions["A"].width = 28
    for letter in "BCDEFGHIJ":
        ws.column_dimensions[letter].width = width

    def put(*values: Any, style: str | None = None) -> None:
        ws.append(
            [
                s.cell(ws, v, style if i == 0 else None) if v is not None else None
                for i, v in enumerate(values)
            ]
        )

    return ws, put


def _chart(ws: Any, title: str, first: int, last: int) -> BarChart:
    """A bar per status, drawn from the table of rows first..last (its header above)."""
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.y_axis.title = "hosts"
    chart.legend = None
    chart.height, chart.width = 8, 16
    chart.add_data(Reference(ws, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    return chart


def _status_rows(s: Sheets, ws: Any, counts: Counter[Status], total: int) -> None:
    for status in Status:
        ws.append(
            [
                s.cell(ws, status.value, status.value),
                s.cell(ws, counts.get(status, 0), "center"),
                s.share(ws, counts.get(status, 0) / max(1, total)),
            ]
        )


def _status_header(s: Sheets, ws: Any, first: str) -> None:
    ws.append(
        [s.cell(ws, first, "header")] + [s.cell(ws, h, "header_center") for h in ("Hosts", "Share")]
    )


def kb_summary(s: Sheets, ev: Evaluation) -> None:
    ws, put = _opened(s, 21)
    kb = ev.kbs[0]
    put(f"{kb.id} remediation report", style="title")
    put(kb.title)
    put(None)
    put("KB", kb.id, style="label")
    put("Source of the file table", kb.source, style="label")
    put("Generated", ev.generated_at, style="label")
    put("Hosts from", ev.source, style="label")
    put("kbscan version", ev.kbscan_version, style="label")
    put("Hosts", len(ev.findings), style="label")
    put("Hosts needing action", sum(f.status.needs_action for f in ev.findings), style="label")
    put(None)
    _status_header(s, ws, "Status")
    first = 13  # the row after the header: eleven lines above it
    _status_rows(s, ws, Counter(f.status for f in ev.findings), len(ev.findings))
    last = first + len(Status) - 1
    for _ in range(CHART_ROWS):  # room for the chart, below the table it draws
        ws.append([])
    ws.add_chart(_chart(ws, "Hosts by status", first, last), f"A{last + 2}")
    frame = _frame(ev.findings)
    for title, index in (
        ("By platform, service pack and architecture", "platform"),
        ("By site", "site"),
        ("By owner", "owner"),
    ):
        if index != "platform" and frame[index].eq("").all():
            continue
        _pivot(s, ws, title, frame, index, put)


def set_summary(s: Sheets, ev: Evaluation) -> None:
    ws, put = _opened(s, 14)
    plans = ev.plans
    put(f"{ev.stem}: baseline report", style="title")
    put(", ".join(kb.id for kb in ev.kbs))
    put(None)
    put("Baseline", ev.stem, style="label")
    put("Baseline file", ev.set_source or "named on the command line", style="label")
    put("Generated", ev.generated_at, style="label")
    put("Hosts from", ev.source, style="label")
    put("kbscan version", ev.kbscan_version, style="label")
    put("Hosts", len(plans), style="label")
    put("KBs", len(ev.kbs), style="label")
    put("Hosts needing action", sum(p.worst_action is not None for p in plans), style="label")
    put(None)
    ws.append(
        [s.cell(ws, "KB", "header")]
        + [s.cell(ws, status.value, "header_center") for status in Status]
        + [s.cell(ws, "Needing action", "header_center")]
    )
    for kb in ev.kbs:
        counted = Counter(f.status for f in ev.findings if f.kb_id == kb.id)
        ws.append(
            [s.cell(ws, kb.id, "label")]
            + [s.cell(ws, counted.get(status, 0), "center") for status in Status]
            + [s.cell(ws, sum(n for st, n in counted.items() if st.needs_action), "center")]
        )
    ws.append([])
    _status_header(s, ws, "Worst status of each host")
    first = 16 + len(ev.kbs)  # the row after this header, counted from the top
    _status_rows(s, ws, Counter(p.worst for p in plans), len(plans))
    last = first + len(Status) - 1
    ws.add_chart(_chart(ws, "Hosts by worst status", first, last), f"A{last + 2}")
    for _ in range(CHART_ROWS):
        ws.append([])


def _pivot(s: Sheets, ws: Any, title: str, frame: pd.DataFrame, index: str, put: Put) -> None:
    table = pd.crosstab(frame[index].replace("", "(none)"), frame["status"])
    ordered = [status.value for status in Status if status.value in table.columns]
    table = table[ordered]
    put(None)
    put(title, style="label")
    label = index.replace("_", " / ")
    ws.append(
        [s.cell(ws, label, "header")]
        + [s.cell(ws, h, "header_center") for h in [*ordered, "Total"]]
    )
    for key, counts in table.iterrows():
        values = [int(v) for v in counts.tolist()]
        ws.append(
            [s.cell(ws, str(key))] + [s.cell(ws, v, "center") for v in [*values, sum(values)]]
        )


def _frame(findings: Sequence[Finding]) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            "status": [f.status.value for f in findings],
            "platform": [platform_label(f) or "(not judged)" for f in findings],
            "site": [site(f) for f in findings],
            "owner": [owner(f) for f in findings],
        },
        columns=["status", "platform", "site", "owner"],
    )
    return frame
