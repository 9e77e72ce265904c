"""``wmic qfe`` output saved by an administrator: the installed-update records of one
host or of several (``wmic /node:a,b qfe``), in list, table or csv format; and the same
class as PowerShell's ``Get-HotFix`` prints or exports it.

wmic's property names (HotFixID, CSName) are the WMI schema's and stay English on every
display language; its messages ("Please wait while WMIC is being installed.", "No
Instance(s) Available.") do not, and are skipped for their shape. The table format is
fixed-width (a Description such as "Security Update" holds a space), so its rows are cut at
the header's column starts.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from kbscan.collect.probe import parse_wmic_list
from kbscan.errors import InputError
from kbscan.hotfix_ids import listed_record


class QfeError(InputError):
    """Not a wmic qfe (or Get-HotFix) output."""


@dataclass(frozen=True)
class QfeRecords:
    host: str | None  # CSName (or csv's Node); None when the capture does not say
    hotfixes: tuple[str, ...]
    line: int


def looks_like_qfe(text: str) -> bool:
    return re.search(r"(?im)^(?:.*[\s,\"])?HotFixID(?:[\s,=\":].*)?$", text) is not None


# The column naming the host: wmic's CSName (Node in /format:csv), PowerShell's Source
# (Get-HotFix) or PSComputerName (Get-HotFix | Export-Csv).
_HOST_COLUMNS = ("csname", "node", "source", "pscomputername")


def parse_qfe(text: str) -> tuple[QfeRecords, ...]:
    """The records per host, in the order the capture names them: wmic qfe in list,
    table or csv format, and PowerShell's Get-HotFix as a table, a list (Format-List:
    ``HotFixID    : KB...``) or exported csv."""
    lines = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(re.match(r"(?i)^\s*HotFixID=", line) for line in lines):
        return _group(_list_records(text))
    if any(re.match(r"(?i)^\s*HotFixID\s+:", line) for line in lines):  # Format-List
        return _group(_list_records(re.sub(r"(?m)^[ \t]*(\w+)[ \t]+: ?", r"\1=", text)))
    for index, line in enumerate(lines):
        cells = [c.strip().strip('"').lower() for c in line.split(",")]
        if "hotfixid" in cells:
            return _group(_csv_records(lines, index))
        if "hotfixid" in line.lower().split():
            return _group(_table_records(lines, index))
    raise QfeError("no HotFixID column or property: not a wmic qfe output")


def _list_records(text: str) -> list[tuple[str | None, str, int]]:
    records = []
    for record in parse_wmic_list(text):
        fields = {k.lower(): v for k, v in record.items()}
        if fields.get("hotfixid"):
            host = next((fields[c] for c in _HOST_COLUMNS if fields.get(c)), None)
            records.append((host, fields["hotfixid"], 0))
    return records


def _csv_records(lines: list[str], at: int) -> list[tuple[str | None, str, int]]:
    rows = list(csv.reader(io.StringIO("\n".join(lines[at:]))))
    header = [c.strip().lower() for c in rows[0]]
    fix = header.index("hotfixid")
    host = next((header.index(c) for c in _HOST_COLUMNS if c in header), None)
    records = []
    for number, cells in enumerate(rows[1:], start=at + 2):
        if len(cells) == len(header):
            records.append((cells[host].strip() if host is not None else None, cells[fix], number))
    return records


def _table_records(lines: list[str], at: int) -> list[tuple[str | None, str, int]]:
    """Fixed-width columns cut at the header's column starts; PowerShell's dashed line
    under the header is skipped."""
    header = lines[at]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    columns = {m.group().lower(): m.start() for m in re.finditer(r"\S+", header)}

    def cell(row: str, name: str) -> str:
        begin = columns[name]
        following = [s for s in starts if s > begin]
        return row[begin : following[0] if following else None].strip()

    host_column = next((c for c in _HOST_COLUMNS if c in columns), None)
    records = []
    for number, row in enumerate(lines[at + 1 :], start=at + 2):
        if not row.strip() or re.fullmatch(r"[-\s]+", row):
            continue
        host = cell(row, host_column) if host_column else None
        records.append((host or None, cell(row, "hotfixid"), number))
    return records


def _group(records: list[tuple[str | None, str, int]]) -> tuple[QfeRecords, ...]:
    """Hosts in order of first appearance; "File 1" rows (2000/XP/2003 list files of a
    fix under it) name no update and are skipped."""
    hosts: dict[str | None, list[str]] = {}
    first_line: dict[str | None, int] = {}
    for host, hotfix, number in records:
        key = host.upper() if host else None
        hosts.setdefault(key, [])
        first_line.setdefault(key, number)
        record = listed_record(hotfix)
        if record:
            hosts[key].append(record)
    if not hosts:
        return (QfeRecords(None, (), 0),)  # a qfe capture of a host with no records
    return tuple(
        QfeRecords(host, tuple(dict.fromkeys(ids)), first_line[host]) for host, ids in hosts.items()
    )
