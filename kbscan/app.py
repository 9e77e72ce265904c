"""The orchestrator: read facts, judge them, write reports. No protocol, no format.

Each CLI subcommand calls one function here; they return outcomes (data), and only the
CLI turns outcomes and errors into text and exit codes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kbscan import __version__
from kbscan.collect.interface import FactsSource
from kbscan.collect.offline import open_facts
from kbscan.collect.pe import PeError, read_pe_file
from kbscan.errors import InputError
from kbscan.evaluate import evaluate
from kbscan.kb.article import import_article, read_article
from kbscan.kb.directory import default_source
from kbscan.kb.interface import KbError
from kbscan.kb.schema import read_json
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
