"""Read the targets of a scan: CSV, .xlsx, a plain list, or an Ansible INI inventory.

Inventories are typed by hand and exported from CMDBs, so they are hostile input: every
bad row is an InventoryError naming the file and line, a host listed twice is scanned
once (its first line wins, the duplicate is reported), and blank lines and comments are
skipped. Columns kbscan does not know are carried into the reports as they are.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from kbscan.errors import InputError
from kbscan.model import Protocol, Target

MAX_INVENTORY_BYTES = 64 * 1024 * 1024
TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate")
_HOST_RE = re.compile(r"^[A-Za-z0-9_.:\[\]-]{1,255}$")
_KNOWN = {
    "host", "address", "port", "transport", "scheme", "site", "owner", "username", "protocol",
    "smb_port",
}  # fmt: skip
PROTOCOLS = tuple(p.value for p in Protocol)
_ALIASES = {
    "hostname": "host", "name": "host", "computer": "host", "server": "host",
    "ansible_host": "address", "ip": "address", "ansible_port": "port",
    "ansible_winrm_transport": "transport", "ansible_winrm_scheme": "scheme",
    "ansible_user": "username", "user": "username",
}  # fmt: skip


class InventoryError(InputError):
    """An inventory row that cannot become a target; ``host`` when the row names one."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None,
        host: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message, path=path, line=line)
        self.host = host


@dataclass(frozen=True)
class Skipped:
    """A host the inventory names that the scan leaves out, and why (a disabled or
    stale directory account): listed in the reports, never dropped silently."""

    host: str
    where: str  # the row or directory entry that named it
    reason: str


@dataclass(frozen=True)
class Inventory:
    targets: tuple[Target, ...]
    problems: tuple[InventoryError, ...]
    source: str
    skipped: tuple[Skipped, ...] = ()


def read_inventory(path: Path) -> Inventory:
    """Read any supported inventory; the format follows the suffix and the content."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InventoryError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if size > MAX_INVENTORY_BYTES:
        raise InventoryError("larger than 64 MiB; refused", path=str(path))
    if path.suffix.lower() == ".xlsx":
        rows = _xlsx_rows(path)
        return _from_rows(rows, str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InventoryError(
            f"not UTF-8 (byte {exc.start}); save the inventory as UTF-8",
            path=str(path),
            line=line,
        ) from None
    if "\0" in text:
        raise InventoryError("binary data, not an inventory", path=str(path))
    if path.suffix.lower() == ".csv":
        return _from_rows(_csv_rows(text), str(path))
    if any(re.match(r"^\s*\[[^\]]+\]\s*$", line) for line in text.splitlines()):
        return _from_ini(text, str(path))
    return _from_plain(text, str(path))


def _csv_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for record in reader:
        number = reader.line_num
        if not record or all(not c.strip() for c in record) or record[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in record]
            continue
        if len(record) > len(header):
            rows.append((number, {"__error__": f"{len(record)} cells but {len(header)} columns"}))
            continue
        rows.append((number, {h: c.strip() for h, c in zip(header, record, strict=False)}))
    if header is None:
        return []
    rows.insert(0, (0, {"__header__": ",".join(header)}))
    return rows


def _xlsx_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a bad file
        raise InventoryError(
            f"not a readable .xlsx: {type(exc).__name__}", path=str(path)
        ) from None
    sheet = book.worksheets[0]
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = ["" if v is None else str(v).strip() for v in values]
        if not any(cells):
            continue
        if header is None:
            header = [c.lower() for c in cells]
            rows.append((0, {"__header__": ",".join(header)}))
            continue
        rows.append((number, dict(zip(header, cells, strict=False))))
    book.close()
    return rows


def _from_rows(rows: list[tuple[int, dict[str, str]]], source: str) -> Inventory:
    problems: list[InventoryError] = []
    targets: dict[str, Target] = {}
    if not rows:
        raise InventoryError("no header row and no hosts", path=source)
    header = rows[0][1]["__header__"].split(",")
    names = {_ALIASES.get(h, h) for h in header}
    if "host" not in names:
        raise InventoryError("no 'host' column in the header", path=source, line=1)
    for number, row in rows[1:]:
        if "__error__" in row:
            problems.append(InventoryError(row["__error__"], path=source, line=number))
            continue
        fields = {_ALIASES.get(k, k): v for k, v in row.items()}
        _add(targets, problems, fields, source, number)
    return Inventory(tuple(targets.values()), tuple(problems), source)


def _from_plain(text: str, source: str) -> Inventory:
    problems: list[InventoryError] = []
    targets: dict[str, Target] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            _add(targets, problems, {"host": stripped}, source, number)
    return Inventory(tuple(targets.values()), tuple(problems), source)


def _from_ini(text: str, source: str) -> Inventory:
    """Ansible INI: hosts under [groups], with key=value host variables; [g:vars] too."""
    problems: list[InventoryError] = []
    targets: dict[str, Target] = {}
    group_vars: dict[str, dict[str, str]] = {}
    section = "ungrouped"
    pending: list[tuple[int, str, dict[str, str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if m := re.match(r"^\[([^\]]+)\]$", stripped):
            section = m.group(1).strip()
            continue
        if section.endswith(":children"):
            continue
        parts = stripped.split()
        if section.endswith(":vars"):
            key, sep, value = stripped.partition("=")
            if not sep:
                problems.append(InventoryError("expected key=value", path=source, line=number))
                continue
            group_vars.setdefault(section[:-5], {})[key.strip()] = value.strip()
            continue
        variables: dict[str, str] = {"group": section}
        for part in parts[1:]:
            key, sep, value = part.partition("=")
            if not sep:
                problems.append(
                    InventoryError(f"{part!r} is not key=value", path=source, line=number)
                )
                break
            variables[key] = value.strip("'\"")
        else:
            pending.append((number, parts[0], variables))
    for number, host, variables in pending:
        merged = {**group_vars.get(variables["group"], {}), **variables, "host": host}
        fields = {_ALIASES.get(k, k): v for k, v in merged.items() if not k.startswith("ansible_")
                  or k in _ALIASES}  # fmt: skip
        _add(targets, problems, fields, source, number)
    return Inventory(tuple(targets.values()), tuple(problems), source)


def _add(
    targets: dict[str, Target],
    problems: list[InventoryError],
    fields: dict[str, str],
    source: str,
    number: int,
) -> None:
    host = fields.get("host", "").strip()
    named = host if _HOST_RE.match(host) and host.lower() not in targets else None

    def bad(message: str) -> None:
        problems.append(InventoryError(message, path=source, line=number, host=named))

    if not host:
        return bad("no host name")
    if not _HOST_RE.match(host):
        return bad(f"{host[:60]!r} is not a host name or address")
    address = fields.get("address") or None
    if address is not None and not _HOST_RE.match(address):
        return bad(f"{address[:60]!r} is not a host name or address")
    port, smb_port = _port(fields, "port"), _port(fields, "smb_port")
    if isinstance(port, str):
        return bad(f"port {port[:20]!r} is not a number from 1 to 65535")
    if isinstance(smb_port, str):
        return bad(f"smb_port {smb_port[:20]!r} is not a number from 1 to 65535")
    transport = (fields.get("transport") or "").lower() or None
    if transport == "plaintext":
        transport = "basic"
    if transport is not None and transport not in TRANSPORTS:
        return bad(f"transport {transport!r} is not one of {', '.join(TRANSPORTS)}")
    scheme = (fields.get("scheme") or "").lower() or None
    if scheme is not None and scheme not in ("http", "https"):
        return bad(f"scheme {scheme!r} is not http or https")
    protocol = (fields.get("protocol") or "").lower() or None
    if protocol is not None and protocol not in PROTOCOLS:
        return bad(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    key = host.lower()
    if key in targets:
        first = targets[key].line
        return bad(f"{host} is listed again (first on line {first}); scanned once")
    extra = tuple(
        (k, v)
        for k, v in fields.items()
        if k not in _KNOWN and k != "group" and not k.startswith("__") and v
    )
    if "group" in fields:
        extra = (("group", fields["group"]), *extra)
    targets[key] = Target(
        host=host,
        site=fields.get("site") or None,
        owner=fields.get("owner") or None,
        extra=extra,
        address=address,
        port=port,
        transport=transport,
        scheme=scheme,
        username=fields.get("username") or None,
        protocol=Protocol(protocol) if protocol else None,
        smb_port=smb_port,
        line=number,
    )


def _port(fields: dict[str, str], column: str) -> int | str | None:
    """The column's TCP port; the text itself when it is not one; None when empty."""
    text = fields.get(column) or ""
    if not text:
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else text
