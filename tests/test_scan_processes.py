"""Collection over several processes: one journal, every host once, the same facts as one
process, a dead child's hosts as UNKNOWN, and Ctrl-C ending everything at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kbscan import app
from kbscan.collect.interface import Collector
from kbscan.collect.outcome import Collected
from kbscan.collect.winrm import WinrmSettings
from kbscan.journal import Journal
from kbscan.limits import HostDeadline, Limits
from kbscan.model import FailureCategory, HostFacts, ReadBy, Target
from kbscan.report.formats import OutputFormat
from kbscan.scan import default_processes, scan_targets
from tests.simfleet import PASSWORD, USER, fleet, variant

SETTINGS = WinrmSettings(username=USER, password=PASSWORD, transport="basic",
                         allow_basic_over_http=True, read_timeout=4, operation_timeout=2)  # fmt: skip


def test_two_processes_judge_as_one(tmp_path: Path) -> None:
    hosts = [variant(base, f"{base}-{i}") for i in range(12)
             for base in ("lon-smtp01", "lon-smtp02", "fra-fs01")]  # fmt: skip
    with fleet(hosts) as f:
        inventory = f.write_inventory(tmp_path / "inventory.csv")
        one = app.scan_fleet(inventory, "KB934709", tmp_path / "one", SETTINGS,
                             limits=Limits(deadline=5.0, workers=8, processes=1),
                             formats=[OutputFormat.JSON])  # fmt: skip
        two = app.scan_fleet(inventory, "KB934709", tmp_path / "two", SETTINGS,
                             limits=Limits(deadline=5.0, workers=8, processes=2),
                             formats=[OutputFormat.JSON])  # fmt: skip
    journal = [json.loads(x) for x in (tmp_path / "two" / "facts.jsonl").read_text().splitlines()]
    assert sorted(j["host"] for j in journal) == sorted(h.host for h in hosts)  # each once
    assert {(f.host, f.status) for f in one.evaluation.findings} == {
        (f.host, f.status) for f in two.evaluation.findings
    }
    assert two.stats.round_trips == one.stats.round_trips  # the children's counts arrive


class _Collector(Collector):
    fault = FailureCategory.WINRM_FAULT
    read_by = ReadBy.WINRM

    def collect(self, target: Target, deadline: HostDeadline) -> Collected:
        if target.host == "dies":
            os._exit(3)  # a child process killed mid-scan
        time.sleep(0.05)
        return Collected(HostFacts(host=target.host), 1, False)


def test_a_dead_child_leaves_its_hosts_unknown_not_missing(tmp_path: Path) -> None:
    targets = [Target(f"h{i}") for i in range(20)] + [Target("dies")]
    journal = Journal(tmp_path / "facts.jsonl")
    journal.open(fresh=True)
    results, stats = scan_targets(
        targets, _Collector, journal, limits=Limits(deadline=5.0, workers=4, processes=2)
    )
    journal.close()
    assert sorted(results) == sorted(t.host.lower() for t in targets)
    lost = [f for f in results.values() if f.failure is not None]
    assert lost and all("ended unexpectedly" in f.failure.message for f in lost)  # type: ignore[union-attr]
    lines = (tmp_path / "facts.jsonl").read_text().splitlines()
    assert len(lines) == len(targets)


def test_processes_default_to_the_cores_with_enough_hosts() -> None:
    assert default_processes(10, cores=8) == 1
    assert default_processes(120, cores=8) == 2
    assert default_processes(10_000, cores=2) == 2


def test_ctrl_c_with_two_processes(tmp_path: Path) -> None:
    slow = [variant("lon-smtp01", f"slow-{i}", delay=1.0) for i in range(120)]
    with fleet(slow) as f:
        inventory = f.write_inventory(tmp_path / "inventory.csv")
        out = tmp_path / "out"
        proc = subprocess.Popen(
            [sys.executable, "-m", "kbscan", "scan", str(inventory), "--kb", "KB934709",
             "-o", str(out), "--transport", "basic", "--allow-basic-over-http", "--username",
             USER, "--workers", "8", "--processes", "2", "--deadline", "60", "--no-progress"],
            env={**os.environ, "KBSCAN_PASSWORD": PASSWORD},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        journal = out / "facts.jsonl"
        until = time.monotonic() + 60
        while time.monotonic() < until and (
            not journal.exists() or journal.read_bytes().count(b"\n") < 4
        ):
            time.sleep(0.05)
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        ended = time.monotonic() - interrupted
    assert proc.returncode == 130
    assert ended < 5, f"{ended:.1f} s after Ctrl-C"
    lines = journal.read_text().splitlines()
    assert all(json.loads(line)["host"].startswith("slow-") for line in lines)  # intact
    assert len({json.loads(line)["host"] for line in lines}) == len(lines)
