from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kbscan.evaluate import evaluate
from kbscan.model import KbDefinition
from kbscan.report.console import render_summary
from kbscan.report.formats import OutputFormat
from kbscan.report.interface import Evaluation, ReportFormat
from kbscan.report.rows import COLUMNS
from kbscan.report.safety import is_formula_like, neutralise_csv, printable
from tests.helpers import make_facts

HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tx", "\rx", "\uff1d1+1"]


def _evaluation(kb: KbDefinition, hosts: list[str]) -> Evaluation:
    findings = tuple(evaluate(make_facts(host=h, version="6.0.3790.3959"), kb) for h in hosts)
    return Evaluation((kb,), findings, "test", datetime(2026, 11, 24, tzinfo=UTC), "0.1.0")


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_has_a_writer(fmt: OutputFormat, kb: KbDefinition, tmp_path: Path) -> None:
    writer = fmt.writer()
    assert isinstance(writer, ReportFormat)
    path = writer.write(_evaluation(kb, ["a", "b"]), tmp_path)
    assert path.exists() and path.suffix == f".{fmt.value}"


def test_csv_has_one_row_per_host_and_no_formula(kb: KbDefinition, tmp_path: Path) -> None:
    path = OutputFormat.CSV.writer().write(_evaluation(kb, HOSTILE), tmp_path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == len(HOSTILE)
    for row in rows:
        for value in row.values():
            assert not is_formula_like(value), value
    assert {r["host"] for r in rows} == {"'" + h for h in HOSTILE}
    assert all(r["status"] == "NEEDS_HOTFIX" for r in rows)


def test_json_holds_counts_and_findings(kb: KbDefinition, tmp_path: Path) -> None:
    path = OutputFormat.JSON.writer().write(_evaluation(kb, ["a", "b"]), tmp_path)
    doc = json.loads(path.read_text())
    assert doc["counts"]["NEEDS_HOTFIX"] == 2
    first = doc["findings"][0]
    assert first["row"]["version"] == "6.0.3790.4094"
    assert first["installed_version"] == "6.0.3790.3959"
    assert first["facts"]["host"] == "a"


def test_neutralise_and_printable() -> None:
    assert neutralise_csv("=1+1") == "'=1+1"
    assert neutralise_csv("lon-smtp01") == "lon-smtp01"
    assert printable("ok\x1b[2Jgone") == "ok\ufffd[2Jgone"


def test_console_summary_escapes_control_characters(kb: KbDefinition) -> None:
    text = render_summary(_evaluation(kb, ["evil\x1b]0;pwned\x07", "b"]))
    assert "\x1b" not in text and "\x07" not in text
    assert "NEEDS_HOTFIX" in text and "Hosts that need attention" in text
