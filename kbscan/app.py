"""The orchestrator: read facts, judge them, write reports. No protocol, no format.

Each CLI subcommand calls one function here; they return outcomes (data), and only the
CLI turns outcomes and errors into text and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kbscan import __version__
from kbscan.collect.interface import FactsSource
from kbscan.collect.offline import open_facts
from kbscan.collect.pe import PeError, read_pe_file
from kbscan.errors import InputError
from kbscan.evaluate import evaluate
from kbscan.kb.directory import default_source
from kbscan.model import BinaryInfo, KbDefinition
from kbscan.paths import data_dir
from kbscan.report.formats import DEFAULT_FORMATS, OutputFormat
from kbscan.report.interface import Evaluation, ReportError


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


def write_reports(
    evaluation: Evaluation, out_dir: Path, formats: Sequence[OutputFormat]
) -> tuple[Path, ...]:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(
            f"cannot create folder: {exc.strerror or exc}", path=str(out_dir)
        ) from None
    return tuple(fmt.writer().write(evaluation, out_dir) for fmt in formats)


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
    evaluation, problems = judge(
        open_facts(facts_path), kb, str(facts_path), now or datetime.now(timezone.utc)
    )
    written = write_reports(evaluation, out_dir, formats)
    return EvaluateOutcome(evaluation, written, problems)


def demo_facts_path() -> Path:
    return data_dir() / "demo" / "collected"


def run_demo(out_dir: Path, now: datetime | None = None) -> EvaluateOutcome:
    """``kbscan demo``: the bundled fleet's collected evidence, judged against KB934709."""
    return evaluate_facts(demo_facts_path(), "KB934709", out_dir, DEFAULT_FORMATS, now=now)


@dataclass(frozen=True)
class Inspection:
    path: Path
    info: BinaryInfo | None
    error: str | None


def inspect_files(paths: Sequence[Path]) -> tuple[Inspection, ...]:
    """``kbscan inspect``: each file's version and machine, or why it is unreadable."""
    results = []
    for path in paths:
        try:
            results.append(Inspection(path, read_pe_file(path), None))
        except PeError as exc:
            results.append(Inspection(path, None, exc.message))
    return tuple(results)
