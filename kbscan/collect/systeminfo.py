"""``systeminfo`` output as administrators already keep it, in any display language.

Every label is translated (Host Name, Hostname, Nom de l'hôte, Имя узла, ホスト名), so
nothing here reads a label. What is stable across languages and releases (XP to 2008 R2,
and 2000 read remotely with ``systeminfo /s``) is the fields' order and the shapes of their
values: the host name first, the OS name second, the version third (``5.2.3790 Service
Pack 2 Build 3790``, ``6.1.7600 N/A Build 7600``, ``5.2.3790 Service Pack 2 сборка 3790``),
the system type a processor word, the Windows folder a drive path, and the hotfixes as
``[01]: KB934709`` lines. The list format (cmd's default, or saved from PowerShell as
UTF-16), ``/fo csv`` and ``/fo table`` are read; a file may hold several hosts
(``systeminfo /s`` in a loop).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from kbscan.errors import InputError
from kbscan.hotfix_ids import listed_record
from kbscan.model import Arch

FIELDS = 32  # what systeminfo prints on XP, 2003, Vista, 2008, 7 and 2008 R2
MIN_FIELDS = 30
_VERSION = re.compile(r"^(\d+\.\d+\.\d{3,5})\b\s*(.*)$")
_COLON = ":\uff1a"  # ASCII, and the full-width colon of Chinese and Japanese labels
_ITEM = re.compile(rf"^\s+\[\d+\]\s*[{_COLON}]\s*(.*)$")
_ARCH = re.compile(r"(?i)(?<![a-z0-9])(x86|x64|amd64|ia64|itanium)(?![a-z0-9])")
_ARCH_WORDS = {"x86": Arch.X86, "x64": Arch.X64, "amd64": Arch.X64}
# "Primary Domain Controller", in the languages Windows ships it in most often: the
# product type (2) is the only thing kbscan takes from OS Configuration.
_CONTROLLER = re.compile(
    r"(?i)domain controller|domänencontroller|contrôleur de domaine|controlador de domin"
    r"|controller di dominio|domeincontroller|контроллер домена|ドメイン コントローラ"
    r"|ドメインコントローラ|域控制器|網域控制站|도메인 컨트롤러"
)


class SysteminfoError(InputError):
    """Not systeminfo's output, or cut short; ``line`` is where the problem shows."""


def _cut_short(fields: int, line: int) -> SysteminfoError:
    return SysteminfoError(
        f"systeminfo's output is cut short: {fields} of its {FIELDS} fields", line=line
    )


@dataclass(frozen=True)
class Field:
    value: str
    items: tuple[str, ...]  # the "[01]: ..." lines under it
    line: int


@dataclass(frozen=True)
class SystemInfo:
    """One host's systeminfo: what kbscan can judge from it (no file versions)."""

    host: str
    caption: str
    version: str  # 5.2.3790
    service_pack: int
    service_pack_text: str | None  # "Service Pack 2" as the host wrote it
    product_type: int  # 1 workstation, 2 domain controller, 3 server
    architecture: Arch | None
    windows_directory: str | None
    hotfixes: tuple[str, ...]
    line: int  # where this host's block starts


def systeminfo_hosts(text: str) -> tuple[SystemInfo, ...]:
    """Every host of the systeminfo blocks in the text (blocks of label/value lines whose
    third value is a Windows version); none when it holds none; SysteminfoError when a
    block is cut short."""
    return tuple(_host(fields) for fields in _blocks(text))


def parse_systeminfo(text: str) -> tuple[SystemInfo, ...]:
    """Every host in the text; SysteminfoError when there is none or one is cut short."""
    hosts = systeminfo_hosts(text)
    if not hosts:
        raise SysteminfoError("no systeminfo block (host name, OS name, OS version) found")
    return hosts


def _blocks(text: str) -> list[list[Field]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tabular = _csv_blocks(lines) or _table_blocks(lines)
    if tabular:
        return tabular
    runs: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(lines, start=1):
        if line.strip():
            runs[-1].append((number, line))
        elif runs[-1]:
            runs.append([])
    blocks = []
    for run in runs:
        fields = _fields(run)
        if len(fields) >= 3 and _VERSION.match(fields[2].value):
            if len(fields) < MIN_FIELDS:
                raise _cut_short(len(fields), run[-1][0])
            blocks.append(fields)
    return blocks


def _fields(run: list[tuple[int, str]]) -> list[Field]:
    """Label/value lines and the item lines under them. The value starts at the column
    most lines share (labels are padded to it; a label may hold a colon itself, "Page
    File: Max Size:"); a line whose labels push it elsewhere (wide characters) takes the
    text after its last colon."""
    starts: Counter[int] = Counter()
    candidates: dict[int, list[int]] = {}
    for number, line in run:
        if line[:1].isspace() or not re.search(f"[{_COLON}]", line):
            continue
        found = [m.end() for m in re.finditer(rf"[{_COLON}][ \t]+(?=\S)", line)]
        candidates[number] = found
        starts.update(found)
    column = starts.most_common(1)[0][0] if starts else 0
    fields: list[Field] = []
    items: list[str] = []
    for number, line in run:
        item = _ITEM.match(line)
        if item and fields:
            items.append(item.group(1).strip())
            continue
        if number not in candidates:
            continue
        found = candidates[number]
        if fields:
            fields[-1] = Field(fields[-1].value, tuple(items), fields[-1].line)
        items = []
        at = column if column in found else (found[-1] if found else len(line))
        fields.append(Field(line[at:].strip(), (), number))
    if fields:
        fields[-1] = Field(fields[-1].value, tuple(items), fields[-1].line)
    return fields


def _csv_blocks(lines: list[str]) -> list[list[Field]]:
    """``systeminfo /fo csv`` (with or without its header row): one row a host."""
    if not lines or not lines[0].startswith('"'):
        return []
    blocks = []
    rows = csv.reader(io.StringIO("\n".join(lines)))
    for number, row in enumerate(rows, start=1):
        if len(row) >= 3 and _VERSION.match(row[2].strip()):
            if len(row) < MIN_FIELDS:
                raise _cut_short(len(row), number)
            blocks.append([_cell_field(cell, number) for cell in row])
    return blocks


def _table_blocks(lines: list[str]) -> list[list[Field]]:
    """``systeminfo /fo table``: a header line, a line of ``=`` runs that gives each
    column's width, and a line a host; a multi-valued cell (hotfixes) is comma-joined as
    in csv."""
    for index, line in enumerate(lines[1:], start=1):
        if not re.fullmatch(r"=+( =+){20,}\s*", line):
            continue
        spans = [m.span() for m in re.finditer(r"=+", line)]
        blocks = []
        for number, row in enumerate(lines[index + 1 :], start=index + 2):
            if not row.strip():
                continue
            cells = [row[a : b if k + 1 < len(spans) else None].strip()
                     for k, (a, b) in enumerate(spans)]  # fmt: skip
            if len(cells) < 3 or not _VERSION.match(cells[2]):
                continue
            if len(cells) < MIN_FIELDS:
                raise _cut_short(len(cells), number)
            blocks.append([_cell_field(cell, number) for cell in cells])
        return blocks
    return []


def _cell_field(cell: str, number: int) -> Field:
    head, *rest = re.split(r",(?=\[\d+\]\s*:)", cell)
    items = tuple(re.sub(r"^\[\d+\]\s*:\s*", "", r).strip() for r in rest)
    return Field(head.strip(), items, number)


def _host(fields: list[Field]) -> SystemInfo:
    first = fields[0]
    version = _VERSION.match(fields[2].value)
    assert version is not None
    caption = fields[1].value
    if "windows" not in caption.lower():
        raise SysteminfoError(
            f"the OS name {caption[:80]!r} names no Windows release", line=fields[1].line
        )
    later = fields[3:20]
    sp_text = _service_pack_text(version.group(2))
    return SystemInfo(
        host=first.value.split()[0] if first.value else "",
        caption=caption,
        version=version.group(1),
        service_pack=_service_pack(sp_text),
        service_pack_text=sp_text,
        product_type=_product_type(caption, fields[4].value if len(fields) > 4 else ""),
        architecture=next((a for f in later if (a := _architecture(f.value)) is not None), None),
        windows_directory=next(
            (f.value for f in later if re.fullmatch(r"[A-Za-z]:\\[^\\:]+\\?", f.value)), None
        ),
        hotfixes=_hotfixes(fields),
        line=first.line,
    )


def _service_pack_text(rest: str) -> str | None:
    """``Service Pack 2 Build 3790`` is "Service Pack 2"; ``N/A Build 7600`` (any
    language) is None: the last word and number are the build, what comes before them
    names the service pack when it holds a number."""
    words = rest.split()
    if len(words) >= 2 and words[-1].isdigit():
        words = words[:-2]
    text = " ".join(words)
    return text if any(c.isdigit() for c in text) else None


def _service_pack(text: str | None) -> int:
    numbers = [w for w in (text or "").split() if w.isdigit()]
    return int(numbers[-1]) if numbers else 0


def _product_type(caption: str, configuration: str) -> int:
    if _CONTROLLER.search(configuration):
        return 2
    return 3 if re.search(r"(?i)server|serveur|servidor", caption) else 1


def _architecture(value: str) -> Arch | None:
    if not value or value[0].isdigit() or len(value) > 60:
        return None  # "1 Processor(s) Installed.", a BIOS string
    m = _ARCH.search(value)
    if m is None:
        return None
    return _ARCH_WORDS.get(m.group(1).lower(), Arch.IA64)


def _hotfixes(fields: list[Field]) -> tuple[str, ...]:
    """The ids among every field's items (network cards' items are never KB or Q
    numbers); "File 1" entries of 2000/XP/2003 name no update and are skipped."""
    ids = []
    for f in fields:
        for item in f.items:
            record = listed_record(item)
            if record:
                ids.append(record)
    return tuple(dict.fromkeys(ids))
