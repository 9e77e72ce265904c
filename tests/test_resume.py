"""A scan killed midway (SIGKILL at several points, and Ctrl-C) and resumed gives the
findings of an uninterrupted scan, with every host journalled exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbscan import app
from kbscan.collect.winrm import WinrmSettings
from kbscan.journal import Journal
from kbscan.limits import Limits
from kbscan.report.formats import OutputFormat
from kbscan.simulator.fleet import SimulatedFleet
from tests.simfleet import PASSWORD, USER, demo_hosts, fleet, inventory

SETTINGS = WinrmSettings(
    username=USER, password=PASSWORD, transport="basic", allow_basic_over_http=True,
    read_timeout=3, operation_timeout=1,
)  # fmt: skip


def _verdicts(outcome: app.ScanOutcome) -> dict[str, tuple[str, str]]:
    return {f.host: (f.status.value, f.reason) for f in outcome.evaluation.findings}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def slow_fleet(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SimulatedFleet, Path, dict]]:
    hosts = demo_hosts()
    for h in hosts:
        h.delay = 0.02  # five requests a host: the scan takes seconds at two workers
    folder = tmp_path_factory.mktemp("fleet")
    with fleet(hosts) as f:
        inv = inventory(f, folder)
        whole = app.scan_fleet(inv, "KB934709", folder / "whole", SETTINGS,
                               limits=Limits(deadline=2.0, workers=2),
                               formats=[OutputFormat.JSON])  # fmt: skip
        yield f, inv, _verdicts(whole)


def _start(inv: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kbscan", "scan", str(inv), "--kb", "KB934709", "-o", str(out),
         "--transport", "basic", "--allow-basic-over-http", "--username", USER,
         "--workers", "2", "--deadline", "2", "--read-timeout", "3",
         "--operation-timeout", "1", "--no-progress"],
        env={**os.environ, "KBSCAN_PASSWORD": PASSWORD},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _interrupt_after(proc: subprocess.Popen[bytes], journal: Path, lines: int, sig: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= lines:
            break
        time.sleep(0.01)
    proc.send_signal(sig)
    proc.wait(timeout=60)


@pytest.mark.parametrize("after_lines", [1, 15, 30])
def test_sigkill_then_resume(tmp_path: Path, slow_fleet: tuple, after_lines: int) -> None:
    f, inv, whole = slow_fleet
    out = tmp_path / "killed"
    proc = _start(inv, out)
    journal = out / "facts.jsonl"
    _interrupt_after(proc, journal, after_lines, signal.SIGKILL)
    journalled = _lines(journal)
    assert after_lines <= len(journalled) < len(f.hosts), "the kill came too late to test anything"
    # A crash mid-write leaves a torn line: add one on top of the kill.
    with journal.open("ab") as handle:
        handle.write(b'{"schema": "kbscan.facts/1", "host": "fra-sm')
    resumed = app.scan_fleet(inv, "KB934709", out, SETTINGS,
                             limits=Limits(deadline=2.0, workers=2), resume=True,
                             formats=[OutputFormat.JSON])  # fmt: skip
    assert resumed.discarded_tail > 0
    assert resumed.stats.skipped == len({j["host"] for j in journalled})
    hosts = [j["host"] for j in _lines(journal)]
    assert sorted(hosts) == sorted(h.host for h in f.hosts)  # every host once, none twice
    assert _verdicts(resumed) == whole


def test_ctrl_c_then_resume(tmp_path: Path, slow_fleet: tuple) -> None:
    f, inv, whole = slow_fleet
    out = tmp_path / "interrupted"
    proc = _start(inv, out)
    _interrupt_after(proc, out / "facts.jsonl", 10, signal.SIGINT)
    assert proc.returncode == 130
    assert proc.stderr is not None and b"rerun with --resume" in proc.stderr.read()
    resumed = app.scan_fleet(inv, "KB934709", out, SETTINGS,
                             limits=Limits(deadline=2.0, workers=2), resume=True,
                             formats=[OutputFormat.JSON])  # fmt: skip
    assert sorted(j["host"] for j in _lines(out / "facts.jsonl")) == sorted(h.host for h in f.hosts)
    assert _verdicts(resumed) == whole


def test_journal_recovery_cuts_only_the_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    good = json.dumps({"schema": "kbscan.facts/1", "host": "a", "files": []})
    path.write_text(good + "\n" + good.replace('"a"', '"b"') + "\n" + '{"schema": "kb')
    journal = Journal(path)
    done = journal.recover()
    assert sorted(done) == ["a", "b"]
    assert journal.discarded_tail == len('{"schema": "kb')
    assert path.read_text().endswith("}\n")
