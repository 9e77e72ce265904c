"""Split a file-table row into its columns, exactly, and read each cell.

Archived KB articles lost the cell separators ("Aqueue.dll6.0.3790.29501,484,80006-Jun-
200701:56IA-64"); code blocks collapse the spaces of fixed-width tables ("20-Mar-2002
14:59 2,411 Default.asp", no version). Each column has a shape it must have (a version is
four parts of at most 65535, a size has thousands separators and no leading zero, a date
is dd-Mon-yyyy or US mm/dd/yyyy, ...), so every way of cutting the row into those shapes
is enumerated. One reading is an answer; none or several is an error that shows them,
because a guessed split is a wrong version in a compliance report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

MAX_ROW_CHARS = 1000


@dataclass(frozen=True)
class Column:
    key: str  # the KB schema field it feeds
    label: str  # the header text
    pattern: re.Pattern[str]  # the cell's shape where cells may be glued together
    max_len: int
    check: Callable[[str], bool] = lambda _: True
    aliases: tuple[str, ...] = ()  # other header texts for the same column
    optional: bool = False  # may be blank in a space-separated row (no version)
    # Where cells are separated (white space, pipes, tabs) a cell cannot run into its
    # neighbour, so the looser shapes real tables print are unambiguous there: a size
    # without separators, a version with leading zeros or three parts.
    separated: re.Pattern[str] | None = None
    separated_check: Callable[[str], bool] | None = None

    def fits(self, cell: str, *, separated: bool) -> bool:
        pattern = self.separated if separated and self.separated is not None else self.pattern
        check = self.separated_check if separated and self.separated_check else self.check
        return pattern.fullmatch(cell) is not None and check(cell)


def _version_ok(text: str) -> bool:
    """Each part at most 65535 and printed as a number: no leading zero."""
    return all(int(p) <= 0xFFFF and (p == "0" or not p.startswith("0")) for p in text.split("."))


def _name_ok(text: str) -> bool:
    """A file name of several words holds no word that is a number, a version or a
    processor: "4.0.1381.7092 Lsasrv.dll" is two cells, not one name."""
    words = text.split("(")[0].split()
    return not any(
        re.fullmatch(r"[\d.,:/-]+|(?i:x86|x64|ia-64|intel|i386|alpha|mips|ppc)", w)
        for w in words[:-1]
    )


def _loose_version_ok(text: str) -> bool:
    """Each part at most 65535; articles print ``5.00.2195.2100`` for 5.0.2195.2100."""
    return text.lower() == "not applicable" or all(int(p) <= 0xFFFF for p in text.split("."))


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                "dec")  # fmt: skip
NOT_APPLICABLE = re.compile(r"not applicable|not available|n/a|-|", re.IGNORECASE)


def _date_ok(text: str) -> bool:
    return any(parse_date(text, order) is not None for order in ("mdy", "dmy"))


def date_order(texts: list[str]) -> str | None:
    """``mdy`` or ``dmy`` for the numeric dates of one table, from the dates whose day
    is above 12; ``mdy`` (the articles are American) when none tells; None when the
    dates contradict each other."""
    orders = set()
    for text in texts:
        parts = re.split(r"[/-]", text)
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        first, second = int(parts[0]), int(parts[1])
        if first > 12 >= second:
            orders.add("dmy")
        elif second > 12 >= first:
            orders.add("mdy")
    if len(orders) > 1:
        return None
    return orders.pop() if orders else "mdy"


def parse_date(text: str, order: str = "mdy") -> str | None:
    """``06-Jun-2007``, ``11-Jul-01``, US ``06/06/2007`` or ``6/6/07``, ``12-21-2000``,
    or (``order="dmy"``) ``19/12/00`` and ``31-05-2001``, as an ISO date; None if none."""
    match = re.fullmatch(r"(\d{1,2})-([A-Za-z]{3})-(\d{4}|\d{2})", text)
    if match:
        month_name = match.group(2).lower()
        if month_name not in _MONTH_NAMES:
            return None
        day, month = int(match.group(1)), _MONTH_NAMES.index(month_name) + 1
        year_text = match.group(3)
    else:
        match = re.fullmatch(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})", text)
        if match is None:
            return None
        first, second = int(match.group(1)), int(match.group(3))
        month, day = (first, second) if order == "mdy" else (second, first)
        year_text = match.group(4)
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year < 70 else 1900
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_time(text: str) -> str:
    """``16:07``, ``3:35:10``, ``04:39p``, ``08:00P``, ``1:35:53PM`` or ``4:39 PM`` as
    24-hour ``HH:MM`` (``HH:MM:SS`` where the article gives seconds)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])?[Mm]?", text.strip())
    if match is None:
        raise RowError(f"{text!r} is not a time")
    hour, minute = int(match.group(1)), int(match.group(2))
    if match.group(4):
        if not 1 <= hour <= 12:
            raise RowError(f"{text!r} is not a time (hour {hour} with AM/PM)")
        hour = hour % 12 + (12 if match.group(4).lower() == "p" else 0)
    if hour > 23 or minute > 59:
        raise RowError(f"{text!r} is not a time")
    seconds = f":{match.group(3)}" if match.group(3) else ""
    return f"{hour:02d}:{minute:02d}{seconds}"


def parse_version_cell(text: str) -> str | None:
    """A version cell's text, or None where the article prints none (Not applicable)."""
    cleaned = text.strip()
    return None if NOT_APPLICABLE.fullmatch(cleaned) else cleaned


_NAME = r"[^\s\\/:*?\"<>|()]+(?: [^\s\\/:*?\"<>|()]+)*\.(?=[\w]*[A-Za-z])\w{1,10}"
_FOLDER = r"[^\s\\/:*?\"<>|]+(?: [^\s\\/:*?\"<>|]+)*\\"
# Platform cells of the NT 4.0 / 2000 era: the processor ("Intel", "i386", "Alpha",
# "MIPS", "PPC") or the operating system ("Windows NT", "Windows 95/98/ME").
_PLATFORM_WORDS = (
    r"x86|x64|IA-64|IA64|Itanium|ARM64|ARM|AMD64|Intel|i386|Alpha|MIPS|PPC|PowerPC"
    r"|Not [Aa]pplicable|Not [Aa]vailable"
)
_DATE = (
    r"\d{1,2}-(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-(?:\d{4}|\d{2})"
    r"|\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})|\d{1,2}-\d{1,2}-(?:\d{4}|\d{2})"
)

COLUMNS = {
    label.lower(): c
    for c in (
        Column(
            "name", "File name", re.compile(_NAME), 260, aliases=("Filename",),
            # A path in the name column (%Windir%\\System32\\inetsrv\\Ism.dll) and a note
            # in parentheses after the name ("Lsasrv.dll (56-bit)", "(Windows 95)").
            separated=re.compile(rf"(?:%\w+%\\|[A-Za-z]:\\)?(?:{_FOLDER})*{_NAME}"
                                 r"(?: ?\([^()]{1,60}\))?"),
            separated_check=_name_ok,
        ),
        Column("version", "File version",
               re.compile(r"\d{1,5}\.\d{1,5}\.\d{1,5}\.\d{1,5}|Not [Aa]pplicable"), 23,
               lambda t: t.lower() == "not applicable" or _version_ok(t),
               aliases=("Version",), optional=True,
               separated=re.compile(r"\d{1,5}\.\d{1,5}\.\d{1,5}(?:\.\d{1,5})?|Not [Aa]pplicable"),
               separated_check=_loose_version_ok),
        Column("size", "File size", re.compile(r"[1-9]\d{0,2}(?:,\d{3})*|0"), 20,
               aliases=("Size",),
               separated=re.compile(r"[1-9]\d{0,2}(?:[,.]\d{3})+|\d{1,10}")),
        Column("date", "Date",
               re.compile(r"\d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4}"
                          r"|\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})"),
               11, _date_ok, aliases=("Date (UTC)",), separated=re.compile(_DATE)),
        Column("time", "Time",
               re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|(?:0?\d|1[0-2]):[0-5]\d ?(?:[ap]|[AP]M)"),
               11, aliases=("Time (UTC)",),
               separated=re.compile(r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
                                    r"(?: ?(?:[ap]|[AP]M?|[ap]m))?")),
        Column("platform", "Platform", re.compile(_PLATFORM_WORDS), 40,
               separated=re.compile(rf"(?i:{_PLATFORM_WORDS})|\(?(?:Microsoft )?Windows"
                                    r"(?: [\w./-]{1,16}){1,3}\)?"),
               optional=True),
        Column("operating_system", "Operating system",
               re.compile(r"(?:Microsoft )?Windows[\w .()-]{0,60}"), 70),
        Column("sp_requirement", "SP requirement",
               re.compile(r"SP\d|RTM|Not [Aa]pplicable"), 14),
        Column("service_branch", "Service branch",
               re.compile(r"(?:SP\d|RTM)?(?:GDR|QFE|LDR)|RTM|WOW|Not [Aa]pplicable"), 14),
    )
    for label in (c.label, *c.aliases)
}  # fmt: skip


class RowError(ValueError):
    """A header or row that has no exact reading; the message shows what was found."""


def column_for(label: str) -> Column | None:
    """The column a header cell names ("File version", "Date (UTC)"), if any."""
    return COLUMNS.get(re.sub(r"\s+", " ", label.strip().strip("*").strip()).lower())


def parse_header(line: str) -> tuple[Column, ...]:
    """Split a glued or spaced header ("File nameFile versionFile sizeDateTimePlatform",
    "Date Time Version Size File name") into its columns."""
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
    check_columns(found)
    return tuple(found)


def check_columns(columns: list[Column]) -> None:
    keys = [c.key for c in columns]
    if "name" not in keys or not ({"version", "size"} & set(keys)):
        raise RowError("a file table has a 'File name' and a 'File version' or 'Size' column")


def readings(
    line: str, columns: tuple[Column, ...], *, spaced: bool = False
) -> list[dict[str, str]]:
    """Every way of cutting ``line`` into ``columns``; spaces between cells are allowed.

    ``spaced`` rows (code blocks, fixed-width text) separate cells by white space, which
    is folded to one space, and may leave an optional column (the version) blank.
    """
    text = re.sub(r"\s+", " ", line.strip()) if spaced else line.strip()
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
        if spaced and column.optional:
            out.extend(["", *rest] for rest in from_here(index + 1, pos))
        if spaced and index and pos < len(text) and text[pos] != " ":
            memo[key] = out
            return out  # white space is what separates cells here
        start = pos + 1 if index and pos < len(text) and text[pos] in " \t" else pos
        for end in range(start + 1, min(len(text), start + column.max_len) + 1):
            cell = text[start:end]
            if column.fits(cell, separated=spaced):
                out.extend([cell, *rest] for rest in from_here(index + 1, end))
        memo[key] = out
        return out

    found = [dict(zip((c.key for c in columns), cells, strict=True)) for cells in from_here(0, 0)]
    if len(found) > 1 and any(r.get("platform") for r in found):
        # "Shell32.dll (Windows 95)" under a Platform column: the platform, not a name note
        found = [r for r in found if r.get("platform") or not r.get("name", "").endswith(")")]
    return found


def narrowed(
    line: str,
    columns: tuple[Column, ...],
    plausible: Callable[[dict[str, str]], bool] | None = None,
    *,
    spaced: bool = False,
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Every reading of a row, and those left after ``plausible`` when there are several.

    ``plausible`` brings in what the table's heading implies (a Windows Server 2003 SP1
    table holds build-3790 files of SP1's revision range); it is consulted only when the
    shapes alone leave more than one reading, and never empties the list.
    """
    found = readings(line, columns, spaced=spaced)
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
