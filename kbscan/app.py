"""The orchestrator: read facts, judge them, write reports. No protocol, no format.

Each CLI subcommand calls one function here; they return outcomes (data), and only the
CLI turns outcomes and errors into text and exit codes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kbscan import __version__
from kbscan.collect.access import Access
from kbscan.collect.captures import CaptureSource, kb_ids_of, with_inventory
from kbscan.collect.choose import ProtocolCollector
from kbscan.collect.interface import FactsSource
from kbscan.collect.kerberos import kerberos_logon
from kbscan.collect.offline import open_facts
from kbscan.collect.pe import PeError, read_pe_file
from kbscan.collect.plan import plan_for
from kbscan.collect.probe_script import ScriptRequest, build_script
from kbscan.collect.smb import SmbSettings
from kbscan.collect.winrm import WinrmSettings
from kbscan.errors import InputError
from kbscan.gate.diff import diff
from kbscan.gate.exemptions import load_exemptions
from kbscan.gate.inputs import input_digests
from kbscan.gate.model import Policy, Verdict
from kbscan.gate.policy import load_policy
from kbscan.gate.verdict import gate
from kbscan.inventory import Inventory, Skipped, read_inventory
from kbscan.inventory_ldap import DirectoryQuery, is_directory, read_directory
from kbscan.journal import Journal
from kbscan.judge import judge as judge_all
from kbscan.kb.baseline import KbSet, load_kb_set
from kbscan.kb.directory import default_source
from kbscan.kb.schema import read_json
from kbscan.limits import DEFAULTS, Limits
from kbscan.model import (
    CollectionFailure,
    FailureCategory,
    HostFacts,
    KbDefinition,
    Protocol,
)
from kbscan.report.console import Inspection
from kbscan.report.formats import DEFAULT_FORMATS, OutputFormat
from kbscan.report.gate_outputs import DiffJson, VerdictJson, VerdictMarkdown, write_junit
from kbscan.report.interface import Evaluation, ReportError
from kbscan.report.skipped import write_skipped
from kbscan.report.workbook import ExcelReport
from kbscan.scan import ScanStats, default_processes, scan_targets


@dataclass(frozen=True)
class EvaluateOutcome:
    evaluation: Evaluation
    written: tuple[Path, ...]
    problems: tuple[InputError, ...]


KbIds = str | Sequence[str]


def kb_set(kb_ids: KbIds, kb_dir: Path | None = None, baseline: Path | None = None) -> KbSet:
    """The KBs to judge: ``--kb`` ids (a string is one KB), ``all``, and ``--baseline``."""
    ids = [kb_ids] if isinstance(kb_ids, str) else list(kb_ids)
    return load_kb_set(default_source(kb_dir), ids, baseline)


def judge(
    source: FactsSource, kbs: KbSet, label: str, now: datetime
) -> tuple[Evaluation, tuple[InputError, ...]]:
    """Read every host's facts and judge each; bad hosts become UNKNOWN, never vanish."""
    batch = source.read()
    return judge_all(kbs, batch.facts, label, now), batch.problems


def _judge_file(path: Path, kbs: KbSet, now: datetime) -> tuple[Evaluation, tuple[InputError, ...]]:
    """Judge a facts.jsonl file or a folder of collected evidence."""
    return judge(open_facts(path), kbs, str(path), now)


def write_reports(
    evaluation: Evaluation, out_dir: Path, formats: Sequence[OutputFormat]
) -> tuple[Path, ...]:
    _make_folder(out_dir)
    return tuple(fmt.writer().write(evaluation, out_dir) for fmt in formats)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(
            f"cannot create folder: {exc.strerror or exc}", path=str(folder)
        ) from None


def evaluate_facts(
    facts_path: Path,
    kb_ids: KbIds,
    out_dir: Path,
    formats: Sequence[OutputFormat] = DEFAULT_FORMATS,
    kb_dir: Path | None = None,
    now: datetime | None = None,
    baseline: Path | None = None,
) -> EvaluateOutcome:
    """``kbscan evaluate``: judge stored facts against a KB or a set, write the reports."""
    kbs = kb_set(kb_ids, kb_dir, baseline)
    evaluation, problems = _judge_file(facts_path, kbs, now or datetime.now(UTC))
    written = write_reports(evaluation, out_dir, formats)
    return EvaluateOutcome(evaluation, written, problems)


def report_facts(
    facts_path: Path,
    kb_ids: KbIds,
    output: Path,
    formats: Sequence[OutputFormat] = (OutputFormat.XLSX,),
    kb_dir: Path | None = None,
    now: datetime | None = None,
    baseline: Path | None = None,
) -> EvaluateOutcome:
    """``kbscan report``: the workbook at ``output`` (a .xlsx path or a folder), and any
    other formats asked for beside it."""
    kbs = kb_set(kb_ids, kb_dir, baseline)
    evaluation, problems = _judge_file(facts_path, kbs, now or datetime.now(UTC))
    folder = output.parent if output.suffix.lower() == ".xlsx" else output
    _make_folder(folder)
    written: list[Path] = []
    if output.suffix.lower() == ".xlsx":
        written.append(ExcelReport().write_to(evaluation, output))
        formats = [f for f in formats if f is not OutputFormat.XLSX]
    written += write_reports(evaluation, folder, formats)
    return EvaluateOutcome(evaluation, tuple(written), problems)


@dataclass(frozen=True)
class ScanOutcome:
    evaluation: Evaluation
    written: tuple[Path, ...]
    problems: tuple[InputError, ...]
    stats: ScanStats
    journal: Path
    discarded_tail: int  # bytes of a torn journal line dropped on resume
    skipped: tuple[Skipped, ...] = ()  # named by the inventory, left out, and why


def read_targets(
    source: Path | str, settings: WinrmSettings, directory: DirectoryQuery | None = None
) -> Inventory:
    """An inventory file, or the computers of a directory (ldap://, ldaps://) read with
    the scan's own account."""
    if is_directory(str(source)):
        query = replace(
            directory or DirectoryQuery(str(source)),
            url=str(source),
            kerberos=settings.transport == "kerberos",
        )
        return read_directory(query, query.user or settings.username, settings.password)
    return read_inventory(Path(source))


def scan_fleet(
    inventory_path: Path | str,
    kb_ids: KbIds,
    out_dir: Path,
    settings: WinrmSettings,
    *,
    limits: Limits = DEFAULTS,
    resume: bool = False,
    formats: Sequence[OutputFormat] = DEFAULT_FORMATS,
    kb_dir: Path | None = None,
    on_result: Callable[[HostFacts], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    now: datetime | None = None,
    baseline: Path | None = None,
    smb: SmbSettings | None = None,
    protocol: Protocol = Protocol.WINRM,
    directory: DirectoryQuery | None = None,
) -> ScanOutcome:
    """``kbscan scan``: collect every inventory host once for the whole set of KBs, over
    its protocol (the inventory's column, else ``protocol``), journal, judge each (host,
    KB), report. ``smb``: how to reach hosts over SMB; by default the WinRM account and
    read timeout. ``limits``: the per-host deadline, retries, workers and processes
    (processes None: the machine's cores, one per 50 hosts at least).
    ``directory``: how to read an ldap:// inventory (filter, scope, TLS, staleness)."""
    kbs = kb_set(kb_ids, kb_dir, baseline)
    plan = plan_for(kbs.kbs)
    with logged_on(settings):  # one Kerberos logon for the directory and every host
        inventory = read_targets(inventory_path, settings, directory)
        access = Access(settings, smb or smb_settings_like(settings), protocol)
        access.check(inventory.targets)
        journal = Journal(out_dir / "facts.jsonl")
        done = journal.start(resume=resume)
        targets = inventory.targets
        if on_start is not None:
            on_start(sum(1 for t in targets if t.host.lower() not in done))
        try:
            results, stats = scan_targets(
                targets,
                lambda: ProtocolCollector(plan, access),
                journal,
                limits=replace(
                    limits,
                    processes=limits.processes or default_processes(len(targets) - len(done)),
                ),
                done=done,
                on_result=on_result,
            )
        finally:
            journal.close()
    facts = [results[t.host.lower()] for t in targets]
    stamp_now = now or datetime.now(UTC)
    for problem in inventory.problems:
        if problem.host is not None:
            facts.append(
                HostFacts(
                    host=problem.host,
                    collected_at=stamp_now,
                    failure=CollectionFailure(FailureCategory.BAD_INVENTORY_ROW, str(problem)),
                )
            )
    evaluation = judge_all(kbs, facts, str(inventory_path), stamp_now)
    written = write_reports(evaluation, out_dir, formats)
    if inventory.skipped:
        written += (write_skipped(inventory.skipped, out_dir),)
    return ScanOutcome(
        evaluation, written, inventory.problems, stats, journal.path, journal.discarded_tail,
        inventory.skipped,
    )  # fmt: skip


def write_probe_script(
    kb_ids: KbIds,
    output: Path,
    *,
    kb_dir: Path | None = None,
    baseline: Path | None = None,
    copy_files: bool = False,
    now: datetime | None = None,
) -> Path:
    """``kbscan probe-script``: the batch file to run by hand on hosts no scan reaches."""
    kbs = kb_set(kb_ids, kb_dir, baseline)
    request = ScriptRequest(
        tuple(kb.id for kb in kbs.kbs),
        plan_for(kbs.kbs),
        f"kbscan {__version__}",
        now or datetime.now(UTC),
        copy_files=copy_files,
    )
    try:
        output.write_bytes(build_script(request).encode("ascii"))
    except OSError as exc:
        raise ReportError(f"cannot write: {exc.strerror or exc}", path=str(output)) from None
    return output


def judge_offline(
    paths: Sequence[Path],
    kb_ids: KbIds,
    out_dir: Path,
    formats: Sequence[OutputFormat] = DEFAULT_FORMATS,
    *,
    kb_dir: Path | None = None,
    baseline: Path | None = None,
    inventory: Path | None = None,
    now: datetime | None = None,
) -> EvaluateOutcome:
    """``kbscan offline``: hosts from their probe-script outputs, systeminfo and wmic qfe
    captures, journalled in facts.jsonl and judged as a scan's would be. Without --kb or
    --baseline, the KBs the outputs were made for."""
    if not kb_ids and baseline is None:
        kb_ids = kb_ids_of(paths)
        if not kb_ids:
            raise InputError("name the KBs to judge with --kb or --baseline", path=str(paths[0]))
    kbs = kb_set(kb_ids, kb_dir, baseline)
    batch = CaptureSource(paths, plan_for(kbs.kbs)).read()
    facts = batch.facts
    problems = list(batch.problems)
    if inventory is not None:
        read = read_inventory(inventory)
        facts = with_inventory(facts, read.targets)
        problems += read.problems
    _make_folder(out_dir)
    journal = Journal(out_dir / "facts.jsonl")
    journal.start(resume=False)
    try:
        for host in facts:
            journal.append(host, sync=False)
        journal.sync()
    finally:
        journal.close()
    label = ", ".join(str(p) for p in paths)
    evaluation = judge_all(kbs, facts, label, now or datetime.now(UTC))
    written = write_reports(evaluation, out_dir, formats)
    return EvaluateOutcome(evaluation, (journal.path, *written), tuple(problems))


def logged_on(settings: WinrmSettings) -> contextlib.AbstractContextManager[object]:
    """The scan's Kerberos ticket while it runs (one logon for the fleet), or nothing."""
    if settings.transport != "kerberos":
        return contextlib.nullcontext()
    return kerberos_logon(settings.username, settings.password)


def smb_settings_like(settings: WinrmSettings) -> SmbSettings:
    """SMB with the WinRM account, transport (Kerberos or NTLM) and per-host bounds."""
    return SmbSettings(
        username=settings.username,
        password=settings.password,
        kerberos=settings.transport == "kerberos",
        kdc=settings.kdc,
        read_timeout=float(settings.read_timeout),
    )


def inspect_files(paths: Sequence[Path]) -> tuple[Inspection, ...]:
    """``kbscan inspect``: each file's version and machine, or why it is unreadable."""
    results = []
    for path in paths:
        try:
            results.append(Inspection(path, read_pe_file(path), None))
        except PeError as exc:
            results.append(Inspection(path, None, exc.message))
    return tuple(results)


@dataclass(frozen=True)
class KnownKb:
    id: str
    title: str
    path: Path


def list_kbs(kb_dir: Path | None = None) -> tuple[KnownKb, ...]:
    """``kbscan kb list``: every KB the user folder and the bundled folder hold."""
    source = default_source(kb_dir)
    found = []
    for kb_id in source.ids():
        kb = source.load(kb_id)
        found.append(KnownKb(kb.id, kb.title, source.path_of(kb_id)))
    return tuple(found)


def show_kb(kb_id: str, kb_dir: Path | None = None) -> tuple[KbDefinition, dict[str, Any]]:
    """``kbscan kb show``: the validated definition and the stored document."""
    source = default_source(kb_dir)
    kb = source.load(kb_id)
    return kb, read_json(source.path_of(kb_id))


@dataclass(frozen=True)
class GateOutcome:
    evaluation: Evaluation
    written: tuple[Path, ...]
    problems: tuple[InputError, ...]

    @property
    def verdict(self) -> Verdict:
        assert self.evaluation.verdict is not None
        return self.evaluation.verdict


def gate_facts(
    facts_path: Path,
    kb_ids: KbIds,
    out_dir: Path,
    policy_path: Path | None = None,
    exemptions_path: Path | None = None,
    junit_path: Path | None = None,
    kb_dir: Path | None = None,
    today: date | None = None,
    now: datetime | None = None,
    baseline: Path | None = None,
) -> GateOutcome:
    """``kbscan gate``: judge stored facts, apply the policy and exemptions, and write the
    verdict (JSON, Markdown, the workbook with a Gate sheet, JUnit XML if asked)."""
    policy = load_policy(policy_path) if policy_path else Policy()
    exemptions = load_exemptions(exemptions_path) if exemptions_path else ()
    kbs = kb_set(kb_ids, kb_dir, baseline)
    stamp = now or datetime.now(UTC)
    evaluation, problems = _judge_file(facts_path, kbs, stamp)
    verdict = gate(evaluation.findings, policy, exemptions, today or stamp.date())
    judged_from = [facts_path, *(kb.origin for kb in kbs.kbs), policy_path, exemptions_path]
    verdict = replace(verdict, inputs=input_digests([*judged_from, baseline]))
    evaluation = replace(evaluation, verdict=verdict)
    written = list(write_reports(evaluation, out_dir, [OutputFormat.XLSX]))
    written += [
        VerdictJson().write(evaluation, out_dir),
        VerdictMarkdown().write(evaluation, out_dir),
    ]
    if junit_path is not None:
        written.append(write_junit(evaluation, junit_path))
    return GateOutcome(evaluation, tuple(written), problems)


def diff_facts(
    before: Path,
    after: Path,
    kb_ids: KbIds,
    out_dir: Path,
    kb_dir: Path | None = None,
    now: datetime | None = None,
    baseline: Path | None = None,
) -> EvaluateOutcome:
    """``kbscan diff``: per (host, KB), what changed between two scans."""
    kbs = kb_set(kb_ids, kb_dir, baseline)
    stamp = now or datetime.now(UTC)
    old, old_problems = _judge_file(before, kbs, stamp)
    new, new_problems = _judge_file(after, kbs, stamp)
    evaluation = replace(new, diff=diff(old.findings, new.findings, str(before), str(after)))
    written = list(write_reports(evaluation, out_dir, [OutputFormat.XLSX]))
    written.append(DiffJson().write(evaluation, out_dir))
    return EvaluateOutcome(evaluation, tuple(written), old_problems + new_problems)
