"""The workbook's cells, styles and tables: how every sheet writes.

Written with openpyxl in write-only mode, row by row, so a 100,000-host fleet costs the
findings' memory and not a workbook's. Every string a host could have sent is written as
a string cell (never a formula, whatever it starts with), with characters XML cannot
hold replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation

from kbscan.model import Status

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
DONE_CHOICES = "Yes,No,Deferred,Not needed"
CHART_ROWS = 17
LINE_HEIGHT = 15  # points per line of 11-point text


def safe_text(value: str) -> str:
    """Text XML can hold: control characters a host sent become U+FFFD."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


Row = TypeVar("Row")


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column of a table: its header, width in characters and the value of a row."""

    header: str
    width: float
    value: Callable[[Row], Any]
    kind: str = "text"  # text | status | wrap (long text, wrapped)


class Sheets:
    """A write-only workbook with kbscan's named styles and the writing every sheet shares."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.styles = self._styles()
        self._templates: dict[str, Any] = {}

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
        columns: Sequence[Column[Row]],
        rows: Iterable[Row],
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
        for item in rows:
            row = []
            lines = 1
            for column in columns:
                value = column.value(item)
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

    def share(self, ws: WriteOnlyWorksheet, value: float) -> Cell:
        c = WriteOnlyCell(ws, value=round(value, 4))
        c.number_format = "0.0%"
        c.alignment = Alignment(horizontal="center")
        return c


def _wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs, by the column's width in characters (word wrap loses
    about a tenth of each line)."""
    usable = max(1.0, width * 0.9)
    return sum(max(1, -(-len(part) // int(usable))) for part in text.split("\n"))
