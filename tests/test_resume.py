"""A scan killed midway (SIGKILL) and resumed gives the findings of an uninterrupted scan,
with every host journalled exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kbscan import app
from kbscan.collect.winrm import WinrmSettings
from kbscan.journal import Journal
from kbscan.report.formats import OutputFormat
from tests.simfleet import PASSWORD, USER, demo_hosts, fleet, inventory

SETTINGS = WinrmSettings(
    username=USER, password=PASSWORD, transport="basic", allow_basic_over_http=True,
    read_timeout=3, operation_timeout=1, deadline=2.0,
)  # fmt: skip


def _slow_fleet() -> list:
    hosts = demo_hosts()
    for h in hosts:
        h.delay = 0.02  # five requests a host: the scan takes seconds at two workers
    return hosts


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _verdicts(outcome: app.ScanOutcome) -> dict[str, tuple[str, str]]:
    return {f.host: (f.status.value, f.reason) for f in outcome.evaluation.findings
            if "timeout" not in f.reason}  # fmt: skip


def test_sigkill_midway_then_resume(tmp_path: Path) -> None:
    with fleet(_slow_fleet()) as f:
        inv = inventory(f, tmp_path)
        whole = app.scan_fleet(inv, "KB934709", tmp_path / "whole", SETTINGS, workers=2,
                               formats=[OutputFormat.JSON])  # fmt: skip
        out = tmp_path / "killed"
        env = {**os.environ, "KBSCAN_PASSWORD": PASSWORD}
        proc = subprocess.Popen(
            [sys.executable, "-m", "kbscan", "scan", str(inv), "--kb", "KB934709", "-o", str(out),
             "--transport", "basic", "--allow-basic-over-http", "--username", USER,
             "--workers", "2", "--deadline", "2", "--read-timeout", "3",
             "--operation-timeout", "1", "--no-progress"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        journal = out / "facts.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists() and len(journal.read_bytes().splitlines()) >= 8:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        journalled = _lines(journal)
        assert 8 <= len(journalled) < len(f.hosts), "the kill came too late to test anything"
        # A crash mid-write leaves a torn line: simulate one on top of the kill.
        with journal.open("ab") as handle:
            handle.write(b'{"schema": "kbscan.facts/1", "host": "fra-sm')
        resumed = app.scan_fleet(inv, "KB934709", out, SETTINGS, workers=2, resume=True,
                                 formats=[OutputFormat.JSON])  # fmt: skip
    assert resumed.discarded_tail > 0
    assert resumed.stats.skipped == len({j["host"] for j in journalled})
    hosts = [j["host"] for j in _lines(journal)]
    assert sorted(hosts) == sorted(h.host for h in f.hosts)  # every host once, none twice
    assert _verdicts(resumed) == _verdicts(whole)


def test_journal_recovery_cuts_only_the_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    good = json.dumps({"schema": "kbscan.facts/1", "host": "a", "files": []})
    path.write_text(good + "\n" + good.replace('"a"', '"b"') + "\n" + '{"schema": "kb')
    journal = Journal(path)
    done = journal.recover()
    assert sorted(done) == ["a", "b"]
    assert journal.discarded_tail == len('{"schema": "kb')
    assert path.read_text().endswith("}\n")
