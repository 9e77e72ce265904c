"""The orchestrator: read facts, judge them, write reports. No protocol, no format.

Each CLI subcommand calls one function here; they return outcomes (data), and only the
CLI turns outcomes and errors into text and exit codes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kbscan import __version__
from kbscan.collect.interface import FactsSource
from kbscan.collect.offline import open_facts
from kbscan.collect.pe import PeError, read_pe_file
from kbscan.collect.plan import plan_for
from kbscan.collect.winrm import WinrmCollector, WinrmSettings
from kbscan.errors import InputError
from kbscan.evaluate import evaluate
from kbscan.gate.diff import diff
from kbscan.gate.exemptions import load_exemptions
from kbscan.gate.model import Policy, Verdict
from kbscan.gate.policy import load_policy
from kbscan.gate.verdict import gate
from kbscan.inventory import read_inventory
from kbscan.journal import Journal
from kbscan.kb.article import import_article, read_article
from kbscan.kb.directory import default_source
from kbscan.kb.interface import KbError
from kbscan.kb.schema import read_json
from kbscan.model import CollectionFailure, FailureCategory, HostFacts, KbDefinition
from kbscan.paths import data_dir
from kbscan.report.console import Inspection
from kbscan.report.excel import ExcelReport
from kbscan.report.formats import DEFAULT_FORMATS, OutputFormat
from kbscan.report.gate_outputs import DiffJson, VerdictJson, VerdictMarkdown, write_junit
from kbscan.report.interface import Evaluation, ReportError
from kbscan.scan import DEFAULT_WORKERS, ScanStats, scan_targets
from kbscan.simulator.fleet import SimulatedFleet


@dataclass(frozen=True)
class EvaluateOutcome:
    evaluation: Evaluation
    written: tuple[Path, ...]
    problems: tuple[InputError, ...]


def judge(
    source: FactsSource, kb: KbDefinition, label: str, now: datetime
) -> tuple[Evaluation, tuple[InputError, ...]]:
    """Read every host's facts and judge each; bad hosts become UNKNOWN, never vanish."""
    batch = source.read()
    findings = tuple(sorted((evaluate(f, kb) for f in batch.facts), key=lambda f: f.host.lower()))
    evaluation = Evaluation(kb, findings, label, now, __version__)
    return evaluation, batch.problems


def _judge_file(
    path: Path, kb: KbDefinition, now: datetime
) -> tuple[Evaluation, tuple[InputError, ...]]:
    """Judge a facts.jsonl file or a folder of collected evidence."""
    return judge(open_facts(path), kb, str(path), now)


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
    kb_id: str,
    out_dir: Path,
    formats: Sequence[OutputFormat] = DEFAULT_FORMATS,
    kb_dir: Path | None = None,
    now: datetime | None = None,
) -> EvaluateOutcome:
    """``kbscan evaluate``: judge stored facts against one KB and write the reports."""
    kb = default_source(kb_dir).load(kb_id)
    evaluation, problems = _judge_file(facts_path, kb, now or datetime.now(UTC))
    written = write_reports(evaluation, out_dir, formats)
    return EvaluateOutcome(evaluation, written, problems)


def report_facts(
    facts_path: Path,
    kb_id: str,
    output: Path,
    formats: Sequence[OutputFormat] = (OutputFormat.XLSX,),
    kb_dir: Path | None = None,
    now: datetime | None = None,
) -> EvaluateOutcome:
    """``kbscan report``: the workbook at ``output`` (a .xlsx path or a folder), and any
    other formats asked for beside it."""
    kb = default_source(kb_dir).load(kb_id)
    evaluation, problems = _judge_file(facts_path, kb, now or datetime.now(UTC))
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


def scan_fleet(
    inventory_path: Path,
    kb_id: str,
    out_dir: Path,
    settings: WinrmSettings,
    *,
    workers: int = DEFAULT_WORKERS,
    retries: int = 2,
    resume: bool = False,
    formats: Sequence[OutputFormat] = DEFAULT_FORMATS,
    kb_dir: Path | None = None,
    on_result: Callable[[HostFacts], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> ScanOutcome:
    """``kbscan scan``: collect every inventory host over WinRM, journal, judge, report."""
    kb = default_source(kb_dir).load(kb_id)
    inventory = read_inventory(inventory_path)
    journal = Journal(out_dir / "facts.jsonl")
    done: dict[str, HostFacts] = {}
    if resume:
        done = journal.recover()
    elif journal.path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        journal.path.rename(journal.path.with_name(f"facts-{stamp}.jsonl"))
    journal.open(fresh=not resume)
    targets = inventory.targets
    if on_start is not None:
        on_start(sum(1 for t in targets if t.host.lower() not in done))
    try:
        results, stats = scan_targets(
            targets,
            lambda: WinrmCollector(plan_for([kb]), settings).collect,
            journal,
            workers=workers,
            retries=retries,
            done=done,
            on_result=on_result,
            deadline=settings.deadline,
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
    findings = tuple(sorted((evaluate(f, kb) for f in facts), key=lambda f: f.host.lower()))
    evaluation = Evaluation(kb, findings, str(inventory_path), stamp_now, __version__)
    written = write_reports(evaluation, out_dir, formats)
    return ScanOutcome(
        evaluation, written, inventory.problems, stats, journal.path, journal.discarded_tail
    )


DEMO_USER = "DEMO\\kbscan-svc"
# KB934709, then two real multi-platform KBs imported from their articles: KB2492386
# (XP, Server 2003, XP x64, Vista, 2008) and KB981506 (Windows 7, Server 2008 R2).
DEMO_KBS = ("KB934709", "KB2492386", "KB981506")


def run_demo(
    out_dir: Path, now: datetime | None = None, **scan_options: Any
) -> tuple[ScanOutcome, ...]:
    """``kbscan demo``: serve the demo fleet on loopback and scan it over real WinRM, once
    per demo KB: KB934709's reports in ``out_dir``, each other KB's in ``out_dir/<KB>``.

    The simulated hosts speak WS-Management to pywinrm exactly as a scan of real servers
    would; the password is made up for this run and lives only in memory.
    """
    password = secrets.token_urlsafe(18)
    out_dir.mkdir(parents=True, exist_ok=True)
    fleet_dir = data_dir() / "demo" / "fleet"
    with SimulatedFleet.from_folder(fleet_dir, DEMO_USER, password, operation_timeout=1.0) as fleet:
        inventory = fleet.write_inventory(out_dir / "demo-inventory.csv", transport="ntlm")
        settings = WinrmSettings(
            username=DEMO_USER,
            password=password,
            transport="ntlm",  # with WinRM message encryption, as against real hosts
            fetch_files=True,
            read_timeout=4,
            operation_timeout=2,
            deadline=3.0,
        )
        options: dict[str, Any] = {"workers": 16, "retries": 1}
        options.update(scan_options)
        return tuple(
            scan_fleet(
                inventory, kb_id, out_dir if i == 0 else out_dir / kb_id, settings, now=now,
                **options,
            )
            for i, kb_id in enumerate(DEMO_KBS)
        )  # fmt: skip


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
class ImportOutcome:
    document: dict[str, Any]
    warnings: tuple[str, ...]
    written: Path | None


def import_kb(
    article: Path,
    output: Path | None,
    paths: dict[str, str],
    *,
    force: bool = False,
) -> ImportOutcome:
    """``kbscan kb import``: an article's text to a validated KB file (or stdout)."""
    if output is not None and output.exists() and not force:
        raise KbError("exists; give --force to replace it", path=str(output))
    platforms = default_source().platforms()
    result = import_article(read_article(article), str(article), platforms, paths)
    if output is not None:
        text = json.dumps(result.document, indent=2, ensure_ascii=False) + "\n"
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise KbError(f"cannot write: {exc.strerror or exc}", path=str(output)) from None
    return ImportOutcome(result.document, tuple(result.warnings), output)


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


def _sha256(path: Path) -> str:
    """A file's digest; a folder's is over its files' names and contents, in order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(str(f.relative_to(path)).encode() + b"\0")
        with f.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def gate_facts(
    facts_path: Path,
    kb_id: str,
    out_dir: Path,
    policy_path: Path | None = None,
    exemptions_path: Path | None = None,
    junit_path: Path | None = None,
    kb_dir: Path | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> GateOutcome:
    """``kbscan gate``: judge stored facts, apply the policy and exemptions, and write the
    verdict (JSON, Markdown, the workbook with a Gate sheet, JUnit XML if asked)."""
    policy = load_policy(policy_path) if policy_path else Policy()
    exemptions = load_exemptions(exemptions_path) if exemptions_path else ()
    kb = default_source(kb_dir).load(kb_id)
    stamp = now or datetime.now(UTC)
    evaluation, problems = _judge_file(facts_path, kb, stamp)
    verdict = gate(evaluation.findings, policy, exemptions, today or stamp.date())
    inputs = [(str(facts_path), _sha256(facts_path)), (kb.origin, _sha256(Path(kb.origin)))]
    for extra in (policy_path, exemptions_path):
        if extra is not None:
            inputs.append((str(extra), _sha256(extra)))
    verdict = replace(verdict, inputs=tuple(inputs))
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
    kb_id: str,
    out_dir: Path,
    kb_dir: Path | None = None,
    now: datetime | None = None,
) -> EvaluateOutcome:
    """``kbscan diff``: per host, what changed between two scans."""
    kb = default_source(kb_dir).load(kb_id)
    stamp = now or datetime.now(UTC)
    old, old_problems = _judge_file(before, kb, stamp)
    new, new_problems = _judge_file(after, kb, stamp)
    evaluation = replace(new, diff=diff(old.findings, new.findings, str(before), str(after)))
    written = list(write_reports(evaluation, out_dir, [OutputFormat.XLSX]))
    written.append(DiffJson().write(evaluation, out_dir))
    return EvaluateOutcome(evaluation, tuple(written), old_problems + new_problems)
