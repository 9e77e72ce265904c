"""The output formats a user can ask for, mapped exhaustively to their writers."""

from __future__ import annotations

from enum import StrEnum

from kbscan.report.csv_report import CsvReport
from kbscan.report.interface import ReportFormat
from kbscan.report.json_report import JsonReport
from kbscan.report.workbook import ExcelReport


class OutputFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"

    def writer(self) -> ReportFormat:
        return _WRITERS[self]()


_WRITERS: dict[OutputFormat, type[ReportFormat]] = {
    OutputFormat.JSON: JsonReport,
    OutputFormat.CSV: CsvReport,
    OutputFormat.XLSX: ExcelReport,
}

DEFAULT_FORMATS = (OutputFormat.XLSX, OutputFormat.CSV, OutputFormat.JSON)
