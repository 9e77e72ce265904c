"""The hosts an inventory named that the scan left out (disabled or stale directory
accounts), as a CSV beside the reports: the change board sees every computer of the OU."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from kbscan.inventory import Skipped
from kbscan.report.interface import ReportError
from kbscan.report.safety import neutralise_csv

FILE_NAME = "skipped-hosts.csv"


def write_skipped(skipped: Sequence[Skipped], out_dir: Path) -> Path:
    path = out_dir / FILE_NAME
    try:
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["host", "entry", "reason"])
            for item in skipped:
                writer.writerow([neutralise_csv(v) for v in (item.host, item.where, item.reason)])
    except OSError as exc:
        raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    return path
