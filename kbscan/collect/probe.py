"""The probe: one cmd.exe command line that reads a Windows Server 2003 host, and the
pure parser of what it prints.

Windows Server 2003 has no PowerShell in the box, so the probe uses cmd built-ins,
``wmic``, ``reg query`` and ``sc query``, and only reads: nothing here installs, starts,
stops or writes. Each part is preceded by an ``echo ==KBSCAN:<part>==`` marker so the
parser can find it whatever comes before (wmic's "Please wait while WMIC is being
installed", an error line). Output is parsed as Windows prints it: wmic's CR CR LF line
ends, reg.exe 3.0's tab-separated values, sc's padded columns, empty values.

Paths in a WQL ``where`` clause need doubled backslashes; ``%SystemRoot%`` is expanded by
cmd with single ones, so a ``for /f`` splits it at its backslash and the probe rebuilds
it doubled. On x64, WMI reads System32 natively; a fetched copy is read through
``Sysnative`` when the shell runs as a 32-bit process (PROCESSOR_ARCHITEW6432 set).
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from kbscan.collect.pe import PeError, read_pe_bytes
from kbscan.collect.plan import CollectionPlan, ProbeFile
from kbscan.hotfix_ids import matching
from kbscan.model import (
    SERVICE_STATES,
    SERVICE_UNREADABLE,
    Arch,
    BinaryInfo,
    CollectionFailure,
    FailureCategory,
    FileFacts,
    HostFacts,
    OsFacts,
    PendingRename,
    ReadBy,
    Target,
)
from kbscan.versions import VersionError, parse_version_text

MARK = "==KBSCAN:{}=="
_MARK_RE = re.compile(rb"==KBSCAN:([A-Za-z0-9_.:-]+)==[ \t]*\r?\n?")
SESSION_MANAGER = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"
EXCHANGE_SETUP = r"HKLM\SOFTWARE\Microsoft\Exchange\Setup"
# Installed-update records of Windows 2000, XP and Server 2003: Updates\<product>\<next
# SP>\KBnnnnnn (Windows Server 2003\SP3, Windows XP\SP4, ...). Vista and later keep
# package records in the component store instead, which wmic qfe lists.
UPDATES_KEY = r"HKLM\SOFTWARE\Microsoft\Updates"
HOTFIX_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Hotfix"  # NT 4.0, 2000
_ARCH_CODES = {"0": Arch.X86, "9": Arch.X64, "6": Arch.IA64}
MAX_OUTPUT_BYTES = 64 * 1024 * 1024


class ProbeError(ValueError):
    """Output that is not what the probe prints; becomes an UNKNOWN (unparseable output)."""


def check_safe(text: str) -> str:
    """Nothing from a KB file may change the meaning of the command line."""
    if re.search(r"[\"'&|<>^()!\r\n]", text.replace("%SystemRoot%", "")):
        raise ValueError(f"{text!r} holds characters the probe cannot pass to cmd")
    return text


def _wql_path(kb_path: str, pct: str = "%") -> str:
    """A ``for /f`` that runs wmic on the file with its path doubled for WQL.

    The loop is closed in parentheses: cmd makes the rest of a line a FOR's body, so the
    next file's loop would otherwise have its %a and %b replaced by this one's. ``pct``
    is how the loop's variables are written: ``%`` on a command line, ``%%`` in a batch
    file.
    """
    rest = check_safe(kb_path)
    if rest.lower().startswith("%systemroot%"):
        tail = rest[len("%SystemRoot%") :].replace("\\", "\\\\")
        return (
            f'(for /f "tokens=1,* delims=\\" {pct}a in ("%SystemRoot%") do (wmic datafile where '
            f"\"name='{pct}a\\\\{pct}b{tail}'\" get FileSize,LastModified,Version /format:list "
            "<NUL 2>&1))"
        )
    doubled = rest.replace("\\", "\\\\")
    return (
        f"wmic datafile where \"name='{doubled}'\" get FileSize,LastModified,Version "
        "/format:list <NUL 2>&1"
    )


def _fetch(kb_path: str) -> str:
    native = kb_path
    sysnative = re.sub(r"(?i)^%SystemRoot%\\system32\\", r"%SystemRoot%\\Sysnative\\", kb_path)
    if sysnative == native:
        return f'type "{native}"'
    return f'if defined PROCESSOR_ARCHITEW6432 (type "{sysnative}") else (type "{native}")'


# The exit codes the probe tells apart, per command: decisions come from these numbers,
# never from the messages, which a German or Japanese host prints in its own language.
SC_CODES = (5, 1060)  # access denied; the service does not exist
REG_CODES = (1,)  # reg.exe: 0 found, 1 not found (or not readable)


def exit_code_echo(part: str, codes: tuple[int, ...]) -> str:
    """cmd that prints the last command's exit code, exactly for the codes that decide
    something and as ``other`` for the rest: ``if errorlevel N`` (true at N or above) is
    decided when it runs, where %ERRORLEVEL% would be expanded with the whole line before
    anything ran. Each test sits in the ``else`` of the one above; a negative code (wmic
    reports HRESULTs) is ``other`` too."""
    bounds = sorted({1, *codes, *(c + 1 for c in codes)}, reverse=True)
    return f"echo {MARK.format('rc:' + part)}& {_nest(bounds, codes)}"


def _nest(bounds: list[int], codes: tuple[int, ...]) -> str:
    if not bounds:
        return "(if errorlevel 0 (echo 0) else (echo other))"
    bound, rest = bounds[0], bounds[1:]
    said = f"(echo {bound})" if bound in codes else "(echo other)"
    return f"(if errorlevel {bound} {said} else {_nest(rest, codes)})"


def _reg_part(part: str, command: str) -> str:
    return f"echo {MARK.format(part)}& {command} 2>&1 & {exit_code_echo(part, REG_CODES)}"


def build_probe(plan: CollectionPlan, *, fetch: bool = False) -> str:
    """The single command line that collects everything ``evaluate`` needs for the KBs
    of ``plan``."""
    parts = [*probe_parts(plan), f"echo {MARK.format('end')}"]
    if fetch:
        for f in plan.files:
            part = "fetch:" + f.name
            parts.append(
                f"echo {MARK.format(part)}& {_fetch(f.kb_path)} & {exit_code_echo(part, (1,))}"
            )
    return " & ".join(parts)


def probe_parts(plan: CollectionPlan, pct: str = "%") -> list[str]:
    """The probe's commands, one per part, without its end marker: a command line joins
    them with ``&``, a batch file (collect/probe_script.py) puts one on each line."""
    parts = [
        f"echo {MARK.format('cp')}& chcp",
        f"echo {MARK.format('host')}& hostname",
        f"echo {MARK.format('os')}& wmic os get Caption,CSDVersion,ProductType,"
        "ServicePackMajorVersion,Version,WindowsDirectory /format:list <NUL 2>&1",
        f"echo {MARK.format('cpu')}& wmic cpu get Architecture /format:list <NUL 2>&1",
        f"echo {MARK.format('env')}& echo SystemRoot=%SystemRoot%& "
        "echo PROCESSOR_ARCHITECTURE=%PROCESSOR_ARCHITECTURE%& "
        "echo PROCESSOR_ARCHITEW6432=%PROCESSOR_ARCHITEW6432%",
    ]
    for f in plan.files:
        part = "file:" + f.name
        parts.append(
            f"echo {MARK.format(part)}& {_wql_path(f.kb_path, pct)} & {exit_code_echo(part, (1,))}"
        )
    for name in plan.services:
        part = "service:" + check_safe(name)
        parts.append(
            f"echo {MARK.format(part)}& sc query {name} 2>&1 & {exit_code_echo(part, SC_CODES)}"
        )
    if plan.exchange:
        parts.append(_reg_part("exchange", f'reg query "{EXCHANGE_SETUP}"'))
    parts.append(
        f"echo {MARK.format('qfe')}& wmic qfe get HotFixID /format:list <NUL 2>&1 & "
        + exit_code_echo("qfe", (1,))
    )
    for hotfix in plan.hotfix_ids:
        check_safe(hotfix)
    parts.append(_reg_part("updates", f'reg query "{UPDATES_KEY}" /s'))
    parts.append(_reg_part("hotfix", f'reg query "{HOTFIX_KEY}"'))
    parts.append(
        _reg_part("pending", f'reg query "{SESSION_MANAGER}" /v PendingFileRenameOperations')
    )
    for process in map(check_safe, plan.processes):
        parts.append(
            f"echo {MARK.format('process')}& wmic process where \"name='{process}'\" "
            "get CreationDate,Name /format:list <NUL 2>&1"
        )
    return parts


# --- parsing ------------------------------------------------------------------------


def split_sections(output: bytes) -> list[tuple[str, bytes]]:
    """(marker, raw bytes) for the text parts, in order, up to the first fetched file."""
    sections: list[tuple[str, bytes]] = []
    matches = list(_MARK_RE.finditer(output))
    for i, m in enumerate(matches):
        name = m.group(1).decode("ascii")
        if name.startswith("fetch:"):
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(output)
        sections.append((name, output[m.end() : end]))
    return sections


@dataclass(frozen=True)
class FetchedCopy:
    """A file's copy as ``type`` printed it, or why there is none (the host refused it)."""

    data: bytes | None
    refused: str | None = None


def split_fetched(output: bytes, sizes: dict[str, int]) -> dict[str, FetchedCopy]:
    """The fetched copies: each marker is followed by exactly the size wmic reported,
    then by the copy's exit code.

    Binary data can hold anything, marker text included, so a copy is cut by size and
    taken when its exit-code marker stands exactly where it ends. A refused copy (type
    prints its error on stderr, nothing on stdout) has its exit-code marker at once: the
    file says so, and the next copy is still found.
    """
    start = output.find(b"==KBSCAN:fetch:")
    out: dict[str, FetchedCopy] = {}
    while start != -1 and start < len(output):
        m = _MARK_RE.match(output, start)
        if m is None or not m.group(1).startswith(b"fetch:"):
            raise ProbeError("a fetched copy is followed by unexpected output")
        name = m.group(1).decode("ascii")[len("fetch:") :]
        size = sizes.get(name, 0)  # no size: wmic found no file, and type printed nothing
        code_mark = MARK.format("rc:fetch:" + name).encode("ascii")
        end = m.end() + size
        if output.startswith(code_mark, end):
            at = end
            out[name] = FetchedCopy(output[m.end() : end])
        elif (at := output.find(code_mark, m.end())) != -1:
            out[name] = FetchedCopy(None, "the host refused the copy")
        else:  # cut short: what came is kept, and its size says so
            out[name] = FetchedCopy(output[m.end() : end])
            break
        code_line = _MARK_RE.match(output, at)
        assert code_line is not None
        line_end = output.find(b"\n", code_line.end())
        code = output[code_line.end() : len(output) if line_end == -1 else line_end].strip()
        if code not in (b"0", b"") and out[name].data is not None:
            out[name] = FetchedCopy(
                None, f"type failed (exit code {code.decode('ascii', 'replace')})"
            )
        if line_end == -1:
            break
        start = line_end + 1
    return out


def decode(raw: bytes, codec: str = "cp437") -> str:
    """Console output in the host's OEM code page (what chcp reported; 437 when it said
    nothing), or UTF-16 where wmic wrote it."""
    if raw.count(b"\x00") > len(raw) // 4 and len(raw) > 4:
        return raw.decode("utf-16-le", "replace")
    return raw.decode(codec, "replace")


def code_page(chcp: bytes | None) -> str:
    """The codec of chcp's answer ("Active code page: 850", "Aktive Codepage: 850.",
    "現在のコード ページ: 932"): the number, whatever the words around it."""
    if chcp:
        numbers = re.findall(rb"\d{3,5}", chcp)
        if numbers:
            codec = f"cp{int(numbers[-1])}"
            with contextlib.suppress(LookupError):
                codecs.lookup(codec)
                return codec
    return "cp437"


def _lines(text: str) -> list[str]:
    return [
        line.strip("\r") for line in text.replace("\r\r\n", "\n").replace("\r\n", "\n").split("\n")
    ]


def parse_wmic_list(text: str) -> list[dict[str, str]]:
    """``wmic ... /format:list``: records of Name=Value lines separated by blank lines."""
    if re.search(r"^ERROR:|^Node - .*\n?ERROR|Invalid (query|class|GET Expression)", text, re.M):
        raise ProbeError(f"wmic failed: {_first_line(text)}")
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in _lines(text):
        if not line.strip():
            if current:
                records.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key.strip()):
            current[key.strip()] = value.strip()
    if current:
        records.append(current)
    return records


def parse_hotfix_ids(text: str) -> list[str]:
    """``wmic qfe get HotFixID`` in any output format: ``/format:list`` (HotFixID=KB...),
    the default table (a ``HotFixID`` header, then one id a line), or /format:csv
    (Node,HotFixID); whatever the messages around them say."""
    ids = [r["HotFixID"] for r in parse_wmic_list(text) if r.get("HotFixID")]
    if ids:
        return [i.upper() for i in ids]
    lines = [line.strip() for line in _lines(text) if line.strip()]
    for index, line in enumerate(lines):
        columns = [c.strip() for c in re.split(r",|\s{2,}", line)]
        if "HotFixID" in columns:
            at = columns.index("HotFixID")
            for row in lines[index + 1 :]:
                cells = [c.strip() for c in (row.split(",") if "," in line else row.split())]
                if at < len(cells) and re.fullmatch(r"[A-Za-z]{1,3}\d{4,8}[\w-]*", cells[at]):
                    ids.append(cells[at].upper())
            return ids
    return ids


def _first_line(text: str) -> str:
    for line in _lines(text):
        if line.strip():
            return line.strip()[:200]
    return "(no output)"


def parse_sc_query(text: str, rc: str | None = None) -> str:
    """The service state (RUNNING, STOPPED, ...) from its number; "" when the service
    does not exist (exit code 1060); SERVICE_UNREADABLE when the query was refused (5) or
    failed otherwise. The state line is found by its shape (``<label> : 4  RUNNING``):
    its label is translated on some display languages, the number and name are not."""
    if rc is None:  # an output without its exit code: sc names it on its [SC] line
        failed = re.search(r"^\s*\[SC\][^\r\n]*?(\d+)\s*:", text, re.M)
        rc = failed.group(1) if failed else "0"
    if rc == "1060":
        return ""
    if rc != "0":
        return SERVICE_UNREADABLE
    m = re.search(rf"^\s*\S+\s*:\s*([1-7])\s+({'|'.join(SERVICE_STATES)})\b", text, re.M)
    if m is None:
        raise ProbeError(f"sc query printed no state: {_first_line(text)}")
    return SERVICE_STATES[int(m.group(1)) - 1]


def parse_reg_query(text: str, rc: str | None = None) -> dict[str, tuple[str, str]] | None:
    """Values of a ``reg query`` key as {name: (type, data)}; None when the key is absent.

    Accepts reg.exe 3.0 (Windows Server 2003: name, type and data separated by tabs) and
    later versions (four spaces).
    """
    if _reg_absent(text, rc):
        return None
    values: dict[str, tuple[str, str]] = {}
    seen_key = False
    for line in _lines(text):
        if line.startswith("HKEY_"):
            seen_key = True
            continue
        m = re.match(r"^\s+(.*?)(?:\t|\s{4})(REG_[A-Z_]+)(?:\t|\s{4})?(.*)$", line)
        if m:
            values[m.group(1).strip() or "(Default)"] = (m.group(2), m.group(3))
    if not seen_key:
        raise ProbeError(f"reg query printed no key: {_first_line(text)}")
    return values


def _reg_absent(text: str, rc: str | None) -> bool:
    """reg.exe's exit code says: 0 the key (or value) was read, 1 it was not. Without
    the code (a capture of reg.exe alone), its shape says it: reg.exe prints the key's own
    line (HKEY_...) whenever it read the key, and a message in the host's language when
    it did not."""
    if rc is not None:
        if rc not in ("0", "1"):
            raise ProbeError(f"reg query failed (exit code {rc}): {_first_line(text)}")
        return rc == "1"
    return not any(line.startswith("HKEY_") for line in _lines(text))


def parse_reg_keys(text: str, rc: str | None = None) -> list[str]:
    """The key lines of ``reg query KEY /s`` (every reg.exe version prints each key on a
    line of its own, starting with HKEY_); none when the key does not exist."""
    if _reg_absent(text, rc):
        return []
    keys = [line.strip() for line in _lines(text) if line.startswith("HKEY_")]
    if not keys:
        raise ProbeError(f"reg query printed no key: {_first_line(text)}")
    return keys


def parse_multi_sz(data: str) -> list[str]:
    """reg.exe prints REG_MULTI_SZ items joined by a literal ``\\0``."""
    return [item for item in data.split("\\0")]


def parse_wmi_datetime(text: str) -> datetime | None:
    """CIM datetime ``yyyymmddHHMMSS.mmmmmm+UUU`` (UUU: minutes east of UTC)."""
    m = re.fullmatch(r"(\d{14})\.(\d{6})([+-])(\d{3})", text.strip())
    if m is None:
        return None
    try:
        local = datetime.strptime(m.group(1), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    offset = int(m.group(4)) * (1 if m.group(3) == "+" else -1)
    return local.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(UTC)


def parse_probe_output(
    output: bytes,
    plan: CollectionPlan,
    target: Target,
    collected_at: datetime,
    collector: ReadBy = ReadBy.WINRM,
    advice: Mapping[FailureCategory, str] | None = None,
) -> HostFacts:
    """The facts in a probe's output; an UNKNOWN (unparseable output) when it is not one,
    with the ``advice`` of whoever ran the probe."""
    try:
        return _parse(output, plan, target, collected_at, collector)
    except (ProbeError, VersionError) as exc:
        message = str(exc)
    return HostFacts(
        host=target.host,
        collected_at=collected_at,
        collector=collector,
        target=target,
        failure=CollectionFailure(
            FailureCategory.UNPARSEABLE_OUTPUT,
            _printable(message),
            (advice or {}).get(FailureCategory.UNPARSEABLE_OUTPUT),
        ),
    )


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "\ufffd" for c in text)[:500]


def _parse(
    output: bytes, plan: CollectionPlan, target: Target, collected_at: datetime, collector: ReadBy
) -> HostFacts:
    if len(output) > MAX_OUTPUT_BYTES:
        raise ProbeError(f"output of {len(output)} bytes is larger than {MAX_OUTPUT_BYTES}")
    sections = _sections(output)

    codec = code_page(b"".join(sections.get("cp", [])))

    def text(name: str) -> str:
        if name not in sections:
            raise ProbeError(f"the probe's output has no {name!r} part")
        return decode(b"".join(sections[name]), codec)

    def rc(name: str) -> str | None:
        """The part's exit code, as the probe printed it; None for an output without."""
        raw = sections.get("rc:" + name)
        return decode(b"".join(raw), codec).strip() or None if raw else None

    computer = _first_line(text("host"))
    os_records = parse_wmic_list(text("os"))
    if not os_records:
        raise ProbeError("wmic os printed no record")
    os_rec = os_records[0]
    env = {k: v for rec in parse_wmic_list(text("env")) for k, v in rec.items()}
    system_root = env.get("SystemRoot") or os_rec.get("WindowsDirectory") or None
    arch = _architecture(parse_wmic_list(text("cpu")), env)

    services = tuple(
        (name, parse_sc_query(text("service:" + name), rc("service:" + name)))
        for name in plan.services
    )
    products: tuple[tuple[str, str], ...] = ()
    if plan.exchange:
        products = _exchange(parse_reg_query(text("exchange"), rc("exchange")))
    qfe = parse_hotfix_ids(text("qfe")) if rc("qfe") in (None, "0") else None
    modern = (os_rec.get("Version") or "").split(".")[0] not in ("4", "5")
    if qfe is None and modern:
        raise ProbeError(
            f"wmic qfe failed (exit code {rc('qfe')}): {_first_line(text('qfe'))}; on this "
            "release its list is the only record of installed updates"
        )
    hotfixes = set(qfe or ())
    keys = parse_reg_keys(text("updates"), rc("updates")) + parse_reg_keys(
        text("hotfix"), rc("hotfix")
    )
    hotfixes.update(matching((key.rsplit("\\", 1)[-1] for key in keys), plan.hotfix_ids))
    pending = _pending(parse_reg_query(text("pending"), rc("pending")))
    starts = _process_starts(sections.get("process", []), codec) if plan.processes else ()
    listed = plan.files
    records = {f.name: _datafile(text("file:" + f.name), rc("file:" + f.name)) for f in listed}
    sizes = {}
    for name, record in records.items():
        if record is not None and (size := _int(record.get("FileSize"))) is not None:
            sizes[name] = size
    fetched = {k: v for k, v in split_fetched(output, sizes).items() if k in sizes}
    files = tuple(_file(f, records[f.name], fetched.get(f.name), system_root) for f in listed)
    return HostFacts(
        host=target.host,
        collected_at=collected_at,
        collector=collector,
        target=target,
        computer_name=computer or None,
        system_root=system_root,
        os=OsFacts(
            caption=os_rec.get("Caption") or None,
            version=os_rec.get("Version") or None,
            csd_version=os_rec.get("CSDVersion") or None,
            service_pack=_int(os_rec.get("ServicePackMajorVersion")),
            product_type=_int(os_rec.get("ProductType")),
        ),
        architecture=arch,
        services=services,
        products=products,
        hotfixes=tuple(sorted(hotfixes)),
        pending_renames=pending,
        process_starts=starts,
        files=files,
    )


def _sections(output: bytes) -> dict[str, list[bytes]]:
    """The probe's parts by name; an output without its host and end parts is not a
    probe's (or was cut short)."""
    sections: dict[str, list[bytes]] = {}
    order: list[str] = []
    for name, raw in split_sections(output):
        sections.setdefault(name, []).append(raw)
        order.append(name)
    if "end" not in sections or "host" not in sections:
        raise ProbeError(
            "the probe's output is incomplete or not the probe's"
            + (
                f" (parts seen: {', '.join(order[:8])})"
                if order
                else f": {_first_line(decode(output[:300]))!r}"
            )
        )
    return sections


def _architecture(cpu: list[dict[str, str]], env: dict[str, str]) -> Arch | None:
    arch = _ARCH_CODES.get(cpu[0].get("Architecture", "")) if cpu else None
    if arch is None:
        # WMI is the native answer; fall back to the environment, never to the process's
        # own bitness (PROCESSOR_ARCHITECTURE says x86 in a 32-bit process on x64).
        native = env.get("PROCESSOR_ARCHITEW6432", "")
        if not native or native.startswith("%"):
            native = env.get("PROCESSOR_ARCHITECTURE", "")
        arch = {"X86": Arch.X86, "AMD64": Arch.X64, "IA64": Arch.IA64}.get(native.upper())
    return arch


def _process_starts(parts: list[bytes], codec: str) -> tuple[tuple[str, datetime], ...]:
    recs = [  # one part per image: "no instances" of one must not hide another
        rec for raw in parts for rec in parse_wmic_list(decode(raw, codec))
    ]
    return tuple(
        (rec["Name"].lower(), when)
        for rec in recs
        if rec.get("Name") and (when := parse_wmi_datetime(rec.get("CreationDate", ""))) is not None
    )


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _exchange(values: dict[str, tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    """Exchange 2000 is 6.0 and Exchange 2003 6.5 (MsiProductMajor / MsiProductMinor)."""
    if values is None:
        return ()
    major = _reg_int(values.get("MsiProductMajor"))
    minor = _reg_int(values.get("MsiProductMinor"))
    return (("Exchange Server", exchange_version(major, minor)),)


def exchange_version(major: int | None, minor: int | None) -> str:
    """The Exchange release of its setup key's MsiProductMajor and MsiProductMinor."""
    version = {(6, 0): "2000", (6, 5): "2003"}.get((major or -1, minor or 0))
    if version is None and major == 8:
        version = "2007"
    return version or "unknown"


def _reg_int(value: tuple[str, str] | None) -> int | None:
    if value is None:
        return None
    data = value[1].strip()
    try:
        return int(data, 16) if data.lower().startswith("0x") else int(data)
    except ValueError:
        return None


def _pending(values: dict[str, tuple[str, str]] | None) -> tuple[PendingRename, ...]:
    if values is None or "PendingFileRenameOperations" not in values:
        return ()
    return pending_pairs(parse_multi_sz(values["PendingFileRenameOperations"][1]))


def pending_pairs(items: list[str]) -> tuple[PendingRename, ...]:
    """PendingFileRenameOperations' strings as (source, destination) pairs; the list ends
    in empty strings, and an odd last source is a delete."""
    items = list(items)
    while items and items[-1] == "":
        items.pop()
    if len(items) % 2:
        items.append("")
    return tuple(PendingRename(items[i], items[i + 1]) for i in range(0, len(items), 2))


def _datafile(raw: str, rc: str | None = None) -> dict[str, str] | None:
    """wmic datafile's record for a file; None when no such file exists (wmic then prints
    only its "no instances" message, in the host's language: no record at all), and
    UNREAD when wmic failed (its exit code): that file is not collected, not absent."""
    if rc not in (None, "0"):
        return UNREAD
    records = parse_wmic_list(raw)
    return records[0] if records else None


UNREAD: dict[str, str] = {"": "wmic datafile failed"}  # a file whose query failed


def _file(
    f: ProbeFile, rec: dict[str, str] | None, copy: FetchedCopy | None, system_root: str | None
) -> FileFacts:
    path = f.on_host(system_root)
    if rec is UNREAD:
        return FileFacts(path=path, present=None)
    if rec is None:
        return FileFacts(path=path, present=False)
    version = parse_version_text(rec["Version"]) if rec.get("Version") else None
    size = _int(rec.get("FileSize"))
    binary: BinaryInfo | None = None
    binary_error = None
    fetched = copy.data if copy is not None else None
    if copy is not None and copy.refused is not None:
        binary_error = f"could not be copied: {copy.refused}"
    if fetched is not None:
        if size is not None and len(fetched) != size:
            binary_error = f"the fetched copy has {len(fetched)} of {size} bytes"
        else:
            try:
                binary = read_pe_bytes(fetched, path)
            except PeError as exc:
                binary_error = exc.message
    return FileFacts(
        path=path,
        present=True,
        version_text=version,
        size=size,
        modified=parse_wmi_datetime(rec.get("LastModified", "")),
        binary=binary,
        binary_source=f"copy fetched from {path}" if copy is not None else None,
        binary_error=binary_error,
    )
