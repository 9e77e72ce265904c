"""Findings as CSV, one row per host, formula-safe."""

from __future__ import annotations

import csv
from pathlib import Path

from kbscan.report.interface import Evaluation, ReportError, ReportFormat
from kbscan.report.rows import COLUMNS, finding_row
from kbscan.report.safety import neutralise_csv


class CsvReport(ReportFormat):
    suffix = "csv"

    def write(self, evaluation: Evaluation, out_dir: Path) -> Path:
        path = self.path_for(evaluation, out_dir)
        try:
            # utf-8-sig so Excel on Windows opens non-ASCII captions correctly
            with path.open("w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.DictWriter(handle, fieldnames=COLUMNS)
                writer.writeheader()
                for finding in evaluation.findings:
                    row = finding_row(finding)
                    writer.writerow({k: neutralise_csv(v) for k, v in row.items()})
        except OSError as exc:
            raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
        return path
