"""The remediation workbook as a report format: the book for the evaluation, saved."""

from __future__ import annotations

from pathlib import Path

from kbscan.report.excel import book
from kbscan.report.interface import Evaluation, ReportError, ReportFormat


class ExcelReport(ReportFormat):
    suffix = "xlsx"

    def path_for(self, evaluation: Evaluation, out_dir: Path) -> Path:
        return out_dir / f"{evaluation.stem}-remediation.xlsx"

    def write(self, evaluation: Evaluation, out_dir: Path) -> Path:
        return self.write_to(evaluation, self.path_for(evaluation, out_dir))

    def write_to(self, evaluation: Evaluation, path: Path) -> Path:
        try:
            book(evaluation).save(path)
        except OSError as exc:
            raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
        return path
