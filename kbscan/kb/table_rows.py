"""Split a glued file-table row ("Aqueue.dll6.0.3790.29501,484,80006-Jun-200701:56IA-64")
into its columns, exactly.

Archived KB articles lost the cell separators. Each column has a shape it must have (a
version is four parts of at most 65535, a size has thousands separators and no leading
zero, a date is dd-Mon-yyyy, ...), so every way of cutting the row into those shapes is
enumerated. One reading is an answer; none or several is an error that shows them,
because a guessed split is a wrong version in a compliance report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

MAX_ROW_CHARS = 1000
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"


@dataclass(frozen=True)
class Column:
    key: str  # the KB schema field it feeds
    label: str  # the header text
    pattern: re.Pattern[str]
    max_len: int
    check: Callable[[str], bool] = lambda _: True


def _version_ok(text: str) -> bool:
    """Each part at most 65535 and printed as a number: no leading zero."""
    return all(int(p) <= 0xFFFF and (p == "0" or not p.startswith("0")) for p in text.split("."))


def _date_ok(text: str) -> bool:
    try:
        datetime.strptime(text, "%d-%b-%Y")
    except ValueError:
        return False
    return True


COLUMNS = {
    c.label.lower(): c
    for c in (
        Column(
            "name",
            "File name",
            re.compile(r"[^\s\\/:*?\"<>|]+(?: [^\s\\/:*?\"<>|]+)*\.[A-Za-z]{1,10}"),
            260,
        ),
        Column("version", "File version", re.compile(r"\d{1,5}\.\d{1,5}\.\d{1,5}\.\d{1,5}"), 23,
               _version_ok),
        Column("size", "File size", re.compile(r"[1-9]\d{0,2}(?:,\d{3})*|0"), 20),
        Column("date", "Date", re.compile(rf"\d{{2}}-(?:{_MONTHS})-\d{{4}}"), 11, _date_ok),
        Column("time", "Time", re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d"), 5),
        Column("platform", "Platform",
               re.compile(r"x86|x64|IA-64|ARM64|ARM|Not [Aa]pplicable|Not [Aa]vailable"), 14),
        Column("sp_requirement", "SP requirement",
               re.compile(r"SP\d|RTM|Not [Aa]pplicable"), 14),
        Column("service_branch", "Service branch",
               re.compile(r"(?:SP\d|RTM)?(?:GDR|QFE|LDR)|RTM|Not [Aa]pplicable"), 14),
    )
}  # fmt: skip


class RowError(ValueError):
    """A header or row that has no exact reading; the message shows what was found."""


def parse_header(line: str) -> tuple[Column, ...]:
    """Split a glued header ("File nameFile versionFile sizeDateTimePlatform")."""
    labels = sorted(COLUMNS, key=len, reverse=True)
    found: list[Column] = []
    pos, lowered = 0, line.strip().lower()
    while pos < len(lowered):
        if lowered[pos] in " \t":
            pos += 1
            continue
        match = next((label for label in labels if lowered.startswith(label, pos)), None)
        if match is None:
            known = ", ".join(c.label for c in COLUMNS.values())
            raise RowError(f"unknown column at {line.strip()[pos : pos + 20]!r} (known: {known})")
        column = COLUMNS[match]
        if column in found:
            raise RowError(f"column {column.label!r} appears twice")
        found.append(column)
        pos += len(match)
    keys = [c.key for c in found]
    if keys[:2] != ["name", "version"]:
        raise RowError("a file table starts with 'File name' and 'File version'")
    return tuple(found)


def readings(line: str, columns: tuple[Column, ...]) -> list[dict[str, str]]:
    """Every way of cutting ``line`` into ``columns``; spaces between cells are allowed."""
    text = line.strip()
    if len(text) > MAX_ROW_CHARS:
        raise RowError(f"row longer than {MAX_ROW_CHARS} characters")
    memo: dict[tuple[int, int], list[list[str]]] = {}

    def from_here(index: int, pos: int) -> list[list[str]]:
        if index == len(columns):
            return [[]] if pos == len(text) else []
        key = (index, pos)
        if key in memo:
            return memo[key]
        column = columns[index]
        out: list[list[str]] = []
        start = pos + 1 if index and pos < len(text) and text[pos] in " \t" else pos
        for end in range(start + 1, min(len(text), start + column.max_len) + 1):
            cell = text[start:end]
            if column.pattern.fullmatch(cell) and column.check(cell):
                out.extend([cell, *rest] for rest in from_here(index + 1, end))
        memo[key] = out
        return out

    return [dict(zip((c.key for c in columns), cells, strict=True)) for cells in from_here(0, 0)]


def narrowed(
    line: str,
    columns: tuple[Column, ...],
    plausible: Callable[[dict[str, str]], bool] | None = None,
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Every reading of a row, and those left after ``plausible`` when there are several.

    ``plausible`` brings in what the table's heading implies (a Windows Server 2003 SP1
    table holds build-3790 files of SP1's revision range); it is consulted only when the
    shapes alone leave more than one reading, and never empties the list.
    """
    found = readings(line, columns)
    if len(found) > 1 and plausible is not None:
        kept = [r for r in found if plausible(r)]
        return found, kept or found
    return found, found


def row_error(line: str, columns: tuple[Column, ...], found: list[dict[str, str]]) -> RowError:
    labels = ", ".join(c.label for c in columns)
    if not found:
        return RowError(f"row {line.strip()!r} cannot be split into {labels}: no reading fits")
    shown = "; ".join(" | ".join(r.values()) for r in found[:5])
    return RowError(f"row {line.strip()!r} has {len(found)} readings: {shown}")


def split_row(
    line: str,
    columns: tuple[Column, ...],
    plausible: Callable[[dict[str, str]], bool] | None = None,
) -> dict[str, str]:
    """The one reading of a row, or RowError showing none or all candidates."""
    found, kept = narrowed(line, columns, plausible)
    if len(kept) == 1:
        return kept[0]
    raise row_error(line, columns, found)
