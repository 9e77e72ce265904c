"""Compare two folders of kbscan reports, cell by cell, with the times of the run masked.

    python data/demo/compare_reports.py BEFORE_DIR AFTER_DIR [BEFORE_CHECKOUT AFTER_CHECKOUT]

Run by hand to show that a change of kbscan's insides left what it reports alone: run
``kbscan demo -o BEFORE_DIR`` on the old commit and ``kbscan demo -o AFTER_DIR`` on the
new one, then this. Every file of either folder is compared: facts.jsonl and JSON
reports as parsed JSON, CSV row by row, every sheet of every workbook cell by cell.
What differs from one run to the next whatever the code (the collection and report
times, the seconds a scan took, the made-up demo password's account stays the same) is
masked; anything else that differs is printed, and the exit code is 1.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

_ROOTS: list[tuple[str, str]] = []  # (folder as written in the reports, what it stands for)
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")
_RUN_KEYS = frozenset({"collected_at", "generated_at", "scanned_at", "seconds"})


def mask(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return "<time>"
    if isinstance(value, str):
        for root, name in _ROOTS:
            value = value.replace(root, name)
        return _STAMP.sub("<time>", value)
    if isinstance(value, dict):
        return {k: "<run>" if k in _RUN_KEYS else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def rows_of(path: Path) -> list[Any]:
    if path.suffix == ".jsonl":  # the journal's order is the order hosts answered in
        lines = [mask(json.loads(line)) for line in path.read_text("utf-8").splitlines()]
        return sorted(lines, key=lambda x: json.dumps(x, sort_keys=True))
    if path.suffix == ".json":
        return [mask(json.loads(path.read_text("utf-8")))]
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        ports = {i for i, h in enumerate(rows[0] if rows else []) if h in ("port", "smb_port")}
        return [[("<port>" if i in ports and n else mask(c)) for i, c in enumerate(row)]
                for n, row in enumerate(rows)]  # fmt: skip
    if path.suffix == ".xlsx":
        book = load_workbook(path, read_only=True)
        out: list[Any] = []
        for sheet in book.worksheets:
            out.append(("sheet", sheet.title))
            out.extend(
                (sheet.title, i, [mask(c) for c in row])
                for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)
            )
        book.close()
        return out
    return [mask(path.read_text("utf-8", errors="replace"))]


def compare(before: Path, after: Path, checkouts: tuple[str, str] = ("", "")) -> int:
    """``checkouts``: the source folders the two runs came from, masked like their
    output folders (the reports name the KB files they read)."""
    names = sorted({p.relative_to(before) for p in before.rglob("*") if p.is_file()}
                   | {p.relative_to(after) for p in after.rglob("*") if p.is_file()})  # fmt: skip
    differences = 0
    for name in names:
        old, new = before / name, after / name
        _ROOTS[:] = [(str(before.resolve()), "<out>"), (str(before), "<out>")] + (
            [(checkouts[0], "<checkout>")] if checkouts[0] else []
        )
        a = rows_of(old) if old.exists() else []
        _ROOTS[:] = [(str(after.resolve()), "<out>"), (str(after), "<out>")] + (
            [(checkouts[1], "<checkout>")] if checkouts[1] else []
        )
        b = rows_of(new) if new.exists() else []
        if not old.exists() or not new.exists():
            print(f"{name}: only in {'after' if not old.exists() else 'before'}")
            differences += 1
            continue
        if a == b:
            continue
        differences += 1
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                print(f"{name}: first difference at item {i}:\n  before: {str(x)[:300]}\n"
                      f"  after:  {str(y)[:300]}")  # fmt: skip
                break
        else:
            print(f"{name}: {len(a)} items before, {len(b)} after")
    print(f"{len(names)} files compared, {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    roots = (sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 else ("", "")
    sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2]), roots))
