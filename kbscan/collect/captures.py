"""Facts of hosts no scanner reaches, from the files their administrators carried back:
probe-script outputs, ``systeminfo`` and ``wmic qfe`` captures (files, or folders of them).

Each file is recognised by what it holds, not by its name. One host's files complement
each other (a systeminfo and a wmic qfe of one host are one host), but two files of one
kind for one host are an error: kbscan cannot tell which is current, so that host is
UNKNOWN until one is removed. Every bad file is one error naming it (and its line), and
its host, when the file names one, is UNKNOWN with the reason; the others are judged.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from kbscan.collect.interface import FactsBatch, FactsError, FactsSource
from kbscan.collect.plan import CollectionPlan
from kbscan.collect.probe import MAX_OUTPUT_BYTES, ProbeError
from kbscan.collect.probe_script import COPIES_SUFFIX
from kbscan.collect.qfe_capture import looks_like_qfe, parse_qfe
from kbscan.collect.script_output import (
    COLLECTOR,
    is_script_output,
    offline_failure,
    output_host,
    read_header,
    read_script_output,
)
from kbscan.collect.systeminfo import (
    SystemInfo,
    systeminfo_hosts,
)
from kbscan.errors import InputError
from kbscan.model import FailureCategory, HostFacts, OsFacts, Target

PROBE, SYSTEMINFO, QFE = "probe script output", "systeminfo output", "wmic qfe output"
NO_FILE_VERSIONS = (
    "systeminfo and wmic qfe give no file versions, service states, pending renames or "
    "process starts: run the probe script on the host for those"
)


@dataclass(frozen=True)
class Capture:
    """One host's evidence from one file."""

    kind: str
    path: Path
    facts: HostFacts


class CaptureSource(FactsSource):
    """The hosts of the files and folders given; ``wanted`` is what the KBs asked for
    need (a probe output that does not read it is refused for its host)."""

    def __init__(self, paths: Sequence[Path], wanted: CollectionPlan) -> None:
        self.paths = tuple(paths)
        self.wanted = wanted

    def read(self) -> FactsBatch:
        problems: list[InputError] = []
        captures: list[Capture] = []
        for path in output_files(self.paths):
            found, trouble = self.read_file(path)
            captures += found
            problems += trouble
        facts = [self.merge(host, group, problems) for host, group in _by_host(captures).items()]
        if not facts and not problems:
            problems.append(InputError("holds no host output", path=str(self.paths[0])))
        return FactsBatch(tuple(facts), tuple(problems))

    def read_file(self, path: Path) -> tuple[list[Capture], list[InputError]]:
        try:
            stat = path.stat()
            data = b"" if stat.st_size > MAX_OUTPUT_BYTES else path.read_bytes()
        except OSError as exc:
            return [], [InputError(f"cannot read: {exc.strerror or exc}", path=str(path))]
        try:
            if stat.st_size > MAX_OUTPUT_BYTES:
                raise InputError(f"{stat.st_size} bytes is larger than {MAX_OUTPUT_BYTES}; refused")
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            return _captures(data, path, self.wanted, modified)
        except ProbeError as exc:
            error = InputError(str(exc), path=str(path))
        except InputError as exc:  # a systeminfo's, a qfe's or a script output's own
            error = InputError(exc.message, path=str(path), line=exc.line)
        return [_failed_capture(path, error.message)], [error]

    def merge(self, host: str, group: list[Capture], problems: list[InputError]) -> HostFacts:
        """One host's facts from its captures; two of one kind are an error."""
        kinds: dict[str, list[Capture]] = {}
        for capture in group:
            kinds.setdefault(capture.kind, []).append(capture)
        for kind, same in kinds.items():
            if len(same) > 1:
                names = ", ".join(str(c.path) for c in same)
                message = f"{len(same)} {kind}s for host {host}: {names}; keep only the current one"
                problems.append(InputError(message, path=str(same[-1].path)))
                return _failed(same[-1].path, message, host)
        failed = next((c.facts for c in group if c.facts.failure is not None), None)
        if failed is not None:
            return failed
        main = next((c.facts for c in group if c.kind == PROBE), None)
        main = main or next((c.facts for c in group if c.kind == SYSTEMINFO), group[0].facts)
        records = {h for c in group for h in (c.facts.hotfixes or ())}
        if all(c.facts.hotfixes is None for c in group):
            return main
        return replace(main, hotfixes=tuple(sorted(records)))


def output_files(paths: Sequence[Path]) -> list[Path]:
    """The files given, and those in the folders given: not the HOST.files copies,
    and not what kbscan itself put there (the probe script, which writes its outputs
    beside itself by default, and the reports of an earlier `kbscan offline -o` into
    the same folder)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.endswith(COPIES_SUFFIX) for part in p.relative_to(path).parts)
                and not _kbscans_own(p)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FactsError("no such file or folder", path=str(path))
    return found


def _captures(
    data: bytes, path: Path, wanted: CollectionPlan, modified: datetime
) -> tuple[list[Capture], list[InputError]]:
    if is_script_output(data):
        out = read_script_output(data, path, wanted, modified)
        return [Capture(PROBE, path, out.facts)], list(out.problems)
    text = decode_text(data)
    found: list[Capture] = []
    found += [  # a file may hold a host's systeminfo and its qfe
        Capture(SYSTEMINFO, path, systeminfo_facts(info, modified))
        for info in systeminfo_hosts(text)
    ]
    if looks_like_qfe(text):
        found += [
            Capture(QFE, path, _qfe_facts(rec.host or output_host(path), rec.hotfixes, modified))
            for rec in parse_qfe(text)
        ]
    if not found:
        raise InputError(
            "not a kbscan probe-script output, a systeminfo output or a wmic qfe output", line=1
        )
    return found, []


def decode_text(data: bytes) -> str:
    """UTF-16 as PowerShell and wmic save it (with or without its byte-order mark),
    UTF-8, else one byte a character: the labels may be in any OEM code page, but the
    values kbscan reads (names, versions, KB numbers, paths) are ASCII, and columns stay
    where the console put them."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    if len(data) > 4 and data[1::2].count(0) > len(data) // 4:
        return data.decode("utf-16-le", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp437", "replace")


def systeminfo_facts(info: SystemInfo, modified: datetime) -> HostFacts:
    return HostFacts(
        host=info.host.lower(),
        collected_at=modified,
        collector=COLLECTOR,
        target=Target(host=info.host.lower()),
        computer_name=info.host,
        system_root=info.windows_directory,
        os=OsFacts(
            caption=info.caption,
            version=info.version,
            csd_version=info.service_pack_text,
            service_pack=info.service_pack,
            product_type=info.product_type,
        ),
        architecture=info.architecture,
        hotfixes=info.hotfixes,
        blind_spots=(NO_FILE_VERSIONS,),
    )


def _qfe_facts(host: str, hotfixes: tuple[str, ...], modified: datetime) -> HostFacts:
    return HostFacts(
        host=host.lower(),
        collected_at=modified,
        collector=COLLECTOR,
        target=Target(host=host.lower()),
        computer_name=host,
        hotfixes=hotfixes,
        blind_spots=(
            "wmic qfe gives installed-update records only: add the host's systeminfo output "
            "or run the probe script for its operating system and files",
            NO_FILE_VERSIONS,
        ),
    )


def _failed(path: Path, message: str, host: str | None = None) -> HostFacts:
    name = (host or output_host(path)).lower()
    return HostFacts(
        host=name,
        collector=COLLECTOR,
        target=Target(host=name),
        failure=offline_failure(FailureCategory.UNPARSEABLE_OUTPUT, f"{path.name}: {message}"),
    )


# The reports kbscan writes (report/*: <set>-findings.csv, ...) and its journals.
_OWN_FILES = re.compile(
    r"(?i)^(facts(-\d{8}T\d{6})?\.jsonl|skipped-hosts\.csv"
    r"|.+-(findings\.(csv|json)|remediation\.xlsx|verdict\.(md|json)|diff\.json))$"
)


# What a desktop adds to a folder carried from host to host: never anyone's output.
_SHELL_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})


def _kbscans_own(path: Path) -> bool:
    """A file kbscan wrote (its reports by their names, the probe script by its top), or
    one a desktop's file manager left in the folder."""
    if _OWN_FILES.match(path.name) or path.name.lower() in _SHELL_FILES:
        return True
    if path.suffix.lower() in (".cmd", ".bat"):
        try:
            with path.open("rb") as handle:
                return b"rem kbscan probe script" in handle.read(200)
        except OSError:
            return False
    return False


def _failed_capture(path: Path, message: str) -> Capture:
    return Capture("unreadable output", path, _failed(path, message))


def _short(host: str) -> str:
    """A host's computer name: a FQDN and its first label are one host."""
    return host.split(".", 1)[0].lower()


def _by_host(captures: list[Capture]) -> dict[str, list[Capture]]:
    """Captures per host: a computer name and a FQDN of it are one host."""
    groups: dict[str, list[Capture]] = {}
    for capture in captures:
        groups.setdefault(_short(capture.facts.host), []).append(capture)
    return groups


def with_inventory(facts: Sequence[HostFacts], targets: Sequence[Target]) -> tuple[HostFacts, ...]:
    """The outputs' hosts under the inventory's names and columns (site, owner, tags),
    matched by computer name; an inventory host no output is for is UNKNOWN, so a host
    whose administrator never ran the script is in every report, never silently left out.
    """
    by_name = {_short(f.host): f for f in facts}
    out: list[HostFacts] = []
    for target in targets:
        found = by_name.pop(_short(target.host), None)
        if found is None:
            out.append(
                HostFacts(
                    host=target.host,
                    collector=COLLECTOR,
                    target=target,
                    failure=offline_failure(
                        FailureCategory.NO_OFFLINE_OUTPUT,
                        "none of the files given is this host's output",
                    ),
                )
            )
            continue
        out.append(replace(found, host=target.host, target=target))
    return (*out, *by_name.values())


def kb_ids_of(paths: Sequence[Path]) -> tuple[str, ...]:
    """The KBs the probe-script outputs among ``paths`` were made for, in order."""
    ids: list[str] = []
    for path in output_files(paths):
        try:
            with path.open("rb") as handle:
                head = handle.read(64 * 1024)
        except OSError:
            continue
        if is_script_output(head):
            with contextlib.suppress(InputError):
                ids += read_header(head, str(path)).kb_ids
    return tuple(dict.fromkeys(ids))
