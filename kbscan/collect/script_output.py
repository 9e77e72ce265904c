"""What the probe script (collect/probe_script.py) wrote on a host: its facts, read by the
probe's own parser, and the copies of the KB's files beside it.

The output says what it was made for (its ``script`` part: the files, services and
processes it reads), so it is judged on what it read, whatever kbscan's KB files say
today, and an output that does not read what a KB asked for now needs is refused for
that host rather than judged on half the facts. Its collection time is the host's own
clock (``wmic os get LocalDateTime``), not the time the file was carried back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from kbscan.collect.offline import with_copy
from kbscan.collect.plan import CollectionPlan, ProbeFile
from kbscan.collect.probe import (
    decode,
    parse_probe_output,
    parse_wmi_datetime,
    parse_wmic_list,
    split_sections,
)
from kbscan.collect.probe_script import COPIES_SUFFIX, OUTPUT_SUFFIX, SCRIPT_FORMAT, copy_name
from kbscan.errors import InputError
from kbscan.model import CollectionFailure, FailureCategory, HostFacts, ReadBy, Target

COLLECTOR = ReadBy.OFFLINE
# A host read from files its administrator carried back: the fix is on that side.
ADVICE = {
    FailureCategory.UNPARSEABLE_OUTPUT: "Run the probe script on the host again (or save "
    "systeminfo whole), bring back its complete output, then run kbscan offline again.",
    FailureCategory.NO_OFFLINE_OUTPUT: "Run the probe script on the host (kbscan probe-script) "
    "and add its output, or take the host out of the inventory.",
}


@dataclass(frozen=True)
class ScriptHeader:
    """The ``script`` part: who made the script, when, and what it reads."""

    made_by: str
    made_at: str
    kb_ids: tuple[str, ...]
    plan: CollectionPlan
    copies: bool


@dataclass(frozen=True)
class ScriptOutput:
    facts: HostFacts
    problems: tuple[InputError, ...]


def offline_failure(category: FailureCategory, message: str) -> CollectionFailure:
    return CollectionFailure(category, message, ADVICE.get(category))


def is_script_output(data: bytes) -> bool:
    return b"==KBSCAN:script==" in data[:4096]


def read_header(data: bytes, path: str) -> ScriptHeader:
    return _header(dict(split_sections(data)), path)


def _header(sections: dict[str, bytes], path: str) -> ScriptHeader:
    values: dict[str, list[str]] = {}
    for line in decode(sections.get("script", b"")).splitlines():
        key, sep, value = line.strip().partition("=")
        if sep:
            values.setdefault(key, []).append(value.strip())
    if values.get("format") != [SCRIPT_FORMAT]:
        raise InputError(
            f"made by a probe script of another format ({', '.join(values.get('format', []))}"
            f" is not {SCRIPT_FORMAT}): make the script again with this kbscan",
            path=path,
            line=1,
        )
    files = []
    for spec in values.get("file", []):
        name, _, kb_path = spec.partition(" ")
        files.append(ProbeFile(name, kb_path))
    plan = CollectionPlan(
        files=tuple(files),
        services=tuple(values.get("service", [])),
        exchange=values.get("exchange") == ["1"],
        hotfix_ids=tuple(values.get("hotfix", [])),
        processes=tuple(values.get("process", [])),
    )
    return ScriptHeader(
        made_by=_one(values, "made-by"),
        made_at=_one(values, "made-at"),
        kb_ids=tuple(k for k in _one(values, "kbs").split(",") if k),
        plan=plan,
        copies=values.get("copies") == ["1"],
    )


def _one(values: dict[str, list[str]], key: str) -> str:
    found = values.get(key) or [""]
    return found[0]


def uncovered(header: ScriptHeader, wanted: CollectionPlan) -> tuple[str, ...]:
    """What the KBs asked for need that this script did not read."""
    have = header.plan
    files = {f.kb_path.lower() for f in have.files}
    missing = [f.kb_path for f in wanted.files if f.kb_path.lower() not in files]
    missing += [f"the {s} service" for s in wanted.services if s not in have.services]
    missing += [f"{p}'s start" for p in wanted.processes if p not in have.processes]
    if wanted.exchange and not have.exchange:
        missing.append("Exchange's setup key")
    return tuple(missing)


def read_script_output(
    data: bytes, path: Path, wanted: CollectionPlan, modified: datetime
) -> ScriptOutput:
    """The host's facts as the script read them; a failure (UNKNOWN) with its reason when
    the output is cut short, made for other KBs, or read a 32-bit view of the host."""
    sections = dict(split_sections(data))
    header = _header(sections, str(path))
    host = decode(sections.get("host", b"")).strip().split("\n")[0].strip()
    host = host or output_host(path)
    collected_at = _clock(sections.get("time", b"")) or modified
    target = Target(host=host.lower())
    plan = replace(
        header.plan, hotfix_ids=tuple(dict.fromkeys((*header.plan.hotfix_ids, *wanted.hotfix_ids)))
    )
    facts = parse_probe_output(data, plan, target, collected_at, COLLECTOR, ADVICE)
    problems: list[InputError] = []
    refused = _refusal(header, wanted, sections)
    line = None
    if refused is None and facts.failure is not None:
        refused = facts.failure.message
        line = data.count(b"\n") + 1 if b"==KBSCAN:end==" not in data else None
    if refused is not None:
        problems.append(InputError(refused, path=str(path), line=line))
        facts = HostFacts(
            host=target.host,
            collected_at=collected_at,
            collector=COLLECTOR,
            target=target,
            computer_name=host,
            failure=offline_failure(FailureCategory.UNPARSEABLE_OUTPUT, refused),
        )
    elif header.copies:
        facts, copy_problems = _with_copies(facts, plan, path, sections)
        problems += copy_problems
    return ScriptOutput(facts, tuple(problems))


def _refusal(
    header: ScriptHeader, wanted: CollectionPlan, sections: dict[str, bytes]
) -> str | None:
    tools = re.findall(r"missing=(\S+)", decode(sections.get("tools", b"")))
    if tools:
        return (
            f"the host has no {', '.join(tools)} (Windows 2000 ships without them): read it "
            "with systeminfo /s and wmic /node: from an XP or later machine, or over SMB"
        )
    missing = uncovered(header, wanted)
    if missing:
        return (
            f"the probe script was made for {', '.join(header.kb_ids) or 'other KBs'} and does "
            f"not read {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}: make a "
            "probe script for the KBs asked for and run it on the host"
        )
    env = {
        k: v for rec in parse_wmic_list(decode(sections.get("env", b""))) for k, v in rec.items()
    }
    wow64 = env.get("PROCESSOR_ARCHITEW6432", "")
    if wow64 and not wow64.startswith("%"):
        return (
            "the script ran as a 32-bit process on 64-bit Windows without the Sysnative alias "
            "(KB942589), so it read the 32-bit view of the registry and of System32: run it "
            "from %SystemRoot%\\system32\\cmd.exe"
        )
    return None


def _clock(raw: bytes) -> datetime | None:
    for record in parse_wmic_list(decode(raw)):
        when = parse_wmi_datetime(record.get("LocalDateTime", ""))
        if when is not None:
            return when
    return None


def copies_folder(output: Path) -> Path:
    """HOST.files beside HOST.kbscan.txt."""
    name = output.name
    stem = name[: -len(OUTPUT_SUFFIX)] if name.lower().endswith(OUTPUT_SUFFIX) else output.stem
    return output.with_name(stem + COPIES_SUFFIX)


def _with_copies(
    facts: HostFacts, plan: CollectionPlan, output: Path, sections: dict[str, bytes]
) -> tuple[HostFacts, list[InputError]]:
    """Copies read with pefile: the binary's own version beats what WMI said. A copy
    the host refused (copy's exit code) is said on the file, as a failed fetch is."""
    folder = copies_folder(output)
    by_path = {f.on_host(facts.system_root).lower(): f for f in plan.files}
    files, problems = [], []
    for found in facts.files:
        probe_file = by_path.get(found.path.lower())
        copy = folder / copy_name(probe_file) if probe_file else None
        if probe_file is None or copy is None or not found.present:
            files.append(found)
            continue
        code = decode(sections.get("rc:copy:" + probe_file.name, b"")).strip()
        if code not in ("", "0"):
            files.append(
                replace(found, binary_error=f"the script could not copy it (exit code {code})")
            )
            continue
        if not copy.is_file():
            problems.append(InputError(f"the copy of {found.path} is missing", path=str(copy)))
            files.append(replace(found, binary_error="its copy is missing beside the output"))
            continue
        files.append(with_copy(found, copy, problems, f"copy {copy.name} of {found.path}"))
    return replace(facts, files=tuple(files)), problems


def output_host(path: Path) -> str:
    """The host an unreadable output was for, from its file name (HOST.kbscan.txt)."""
    return path.name.split(".", 1)[0] or path.name
