"""The probe as a batch file an administrator runs by hand on a host no scanner reaches.

Air-gapped plants, DMZ hosts behind one-way firewalls and servers whose owners allow no
remote administration still need judging. The script runs the very commands the WinRM
probe runs (collect/probe.py), one part per line, each appended to one output file named
after the host, so `kbscan offline` parses it with the same parser and judges it by the
same rules. It only reads, and writes nowhere but its output folder.

It is plain cmd as Windows 2000 has it (``setlocal``, ``if defined``, ``%~dp0``, ``exit
/b``; no PowerShell, no ``where``, no delayed expansion). Started from a 32-bit process on
64-bit Windows (a 32-bit software-distribution agent), it runs itself again in the native
cmd through Sysnative, so reg.exe reads the 64-bit registry and copies come from the
native System32; where there is no Sysnative (2003 x64 without KB942589) the output says
so and `kbscan offline` refuses it rather than judge the 32-bit view.
"""

from __future__ import annotations

import ntpath
from dataclasses import dataclass
from datetime import datetime

from kbscan.collect.plan import CollectionPlan, ProbeFile
from kbscan.collect.probe import MARK, check_safe, exit_code_echo, probe_parts

SCRIPT_FORMAT = "kbscan-probe-script/1"
OUTPUT_SUFFIX = ".kbscan.txt"  # %COMPUTERNAME%.kbscan.txt
COPIES_SUFFIX = ".files"  # %COMPUTERNAME%.files\, beside the output, with --copy-files
_OUT = '"%KBSCAN_OUT%"'
# What the probe runs beyond cmd: in the box from XP on; Windows 2000 has none of them.
TOOLS = ("wbem\\wmic.exe", "reg.exe", "sc.exe")


@dataclass(frozen=True)
class ScriptRequest:
    """What the script covers and who made it: said at its top and in its output."""

    kb_ids: tuple[str, ...]
    plan: CollectionPlan
    made_by: str  # "kbscan 0.9.0"
    made_at: datetime
    copy_files: bool = False


def copy_name(f: ProbeFile) -> str:
    """The copy's file name in HOST.files: the part name keeps two files of one name in
    different folders apart."""
    return f"{f.name}_{ntpath.basename(f.kb_path)}"


def build_script(request: ScriptRequest) -> str:
    """The batch file's text, with CR LF line ends as cmd expects."""
    lines = [*_preamble(request), *_header_part(request)]
    lines += [f"({part}) >>{_OUT} 2>&1" for part in _parts(request)]
    lines += [
        f"(echo {MARK.format('end')}) >>{_OUT}",
        "echo kbscan: wrote %KBSCAN_OUT%",
        "endlocal",
    ]
    return "\r\n".join(lines) + "\r\n"


def _preamble(request: ScriptRequest) -> list[str]:
    kbs = ", ".join(request.kb_ids)
    copies = " and copies of the KB's files into HOST.files beside it" if request.copy_files else ""
    return [
        "@echo off",
        f"rem kbscan probe script for {kbs}",
        f"rem Made by {request.made_by} on {request.made_at:%Y-%m-%d %H:%M} UTC.",
        "rem Run it on the host as an administrator:  kbscan-probe.cmd [OUTPUT_FOLDER]",
        "rem It only reads (wmic, reg query, sc query) and writes one file, HOST.kbscan.txt,",
        f"rem to OUTPUT_FOLDER (default: the script's own folder){copies}.",
        "rem Bring the output back and judge it:  kbscan offline HOST.kbscan.txt --kb ...",
        "setlocal",
        "if not defined KBSCAN_NATIVE if defined PROCESSOR_ARCHITEW6432 "
        'if exist "%SystemRoot%\\Sysnative\\cmd.exe" (',
        "  set KBSCAN_NATIVE=1",
        '  "%SystemRoot%\\Sysnative\\cmd.exe" /c ""%~f0" %*"',
        "  exit /b",
        ")",
        'set "KBSCAN_DIR=%~dp0"',
        'if not "%~1"=="" set "KBSCAN_DIR=%~1\\"',
        'set "KBSCAN_OUT=%KBSCAN_DIR%%COMPUTERNAME%' + OUTPUT_SUFFIX + '"',
    ]


def _header_part(request: ScriptRequest) -> list[str]:
    """The first write (it truncates an earlier output), then a check that it landed."""
    plan = request.plan
    said = [
        f"format={SCRIPT_FORMAT}",
        f"made-by={request.made_by}",
        f"made-at={request.made_at:%Y-%m-%dT%H:%M:%SZ}",
        f"kbs={','.join(map(check_safe, request.kb_ids))}",
        *(f"file={f.name} {_literal(f.kb_path)}" for f in plan.files),
        *(f"service={s}" for s in plan.services),
        *(f"hotfix={check_safe(h)}" for h in plan.hotfix_ids),
        *(f"process={p}" for p in plan.processes),
        f"exchange={int(plan.exchange)}",
        f"copies={int(request.copy_files)}",
    ]
    echoes = "& ".join(f"echo {line}" for line in said)
    return [
        f"(echo {MARK.format('script')}& {echoes}) >{_OUT}",
        f"if not exist {_OUT} (",
        "  echo kbscan: cannot write %KBSCAN_OUT% 1>&2",
        "  exit /b 1",
        ")",
    ]


def _literal(path: str) -> str:
    """A path echoed as written: in a batch file ``%%`` prints one ``%``."""
    return check_safe(path).replace("%", "%%")


def _parts(request: ScriptRequest) -> list[str]:
    tools = " & ".join(
        f'(if not exist "%SystemRoot%\\system32\\{tool}" echo missing={ntpath.basename(tool)})'
        for tool in TOOLS
    )
    parts = [
        f"echo {MARK.format('tools')}& {tools}",
        f"echo {MARK.format('time')}& wmic os get LocalDateTime /format:list <NUL 2>&1",
        *probe_parts(request.plan, pct="%%"),
    ]
    if request.copy_files:
        folder = '"%KBSCAN_DIR%%COMPUTERNAME%' + COPIES_SUFFIX + '"'
        parts.append(f"echo {MARK.format('copies')}& if not exist {folder} mkdir {folder}")
        for f in request.plan.files:
            part = "copy:" + f.name
            target = '"%KBSCAN_DIR%%COMPUTERNAME%' + COPIES_SUFFIX + "\\" + copy_name(f) + '"'
            parts.append(
                f'echo {MARK.format(part)}& if exist "{f.kb_path}" (copy /b /y "{f.kb_path}" '
                f"{target} >NUL 2>&1 & {exit_code_echo(part, (1,))})"
            )
    return parts
