"""The remediation workbook as a report format: the book for the evaluation, saved.

A set of KBs gets the set's book (report/excel_set.py), one KB the single-KB book
(report/excel.py) it builds on; this module picks, so neither imports the other back.
"""

from __future__ import annotations

from pathlib import Path

from kbscan.report.excel import Book
from kbscan.report.excel_set import SetBook
from kbscan.report.interface import Evaluation, ReportError, ReportFormat


class ExcelReport(ReportFormat):
    suffix = "xlsx"

    def path_for(self, evaluation: Evaluation, out_dir: Path) -> Path:
        return out_dir / f"{evaluation.stem}-remediation.xlsx"

    def write(self, evaluation: Evaluation, out_dir: Path) -> Path:
        return self.write_to(evaluation, self.path_for(evaluation, out_dir))

    def write_to(self, evaluation: Evaluation, path: Path) -> Path:
        book = SetBook(evaluation) if evaluation.is_set else Book(evaluation)
        try:
            book.build()
            book.wb.save(path)
        except OSError as exc:
            raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
        return path
