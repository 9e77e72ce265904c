"""The per-host deadline holds whatever a host does (issue: slow-drip, endless headers,
silence, resets, floods, entity bombs, HTML errors, auth loops, redirects, endless
Receive loops, mismatched RelatesTo, bad base64), all in one fleet beside well-behaved
hosts: the scan ends within its bound, every host is in the journal and the workbook in
its category, and nothing leaks."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path

from openpyxl import load_workbook

from kbscan import app
from kbscan.limits import Limits
from kbscan.model import FailureCategory, Status
from kbscan.report.formats import OutputFormat
from tests.hostile_fleet import DEADLINE, EXPECTED, SETTINGS, hostile_fleet

WORKERS = 6
RETRIES = 1


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_every_hostile_behaviour_at_once_within_the_bound(tmp_path: Path) -> None:
    descriptors = _open_descriptors()
    with hostile_fleet(tmp_path) as f:
        started = time.monotonic()
        outcome = app.scan_fleet(
            f.inventory, "KB934709", tmp_path / "out", SETTINGS,
            limits=Limits(deadline=DEADLINE, workers=WORKERS, retries=RETRIES),
            formats=[OutputFormat.XLSX],
        )  # fmt: skip
        elapsed = time.monotonic() - started
    # (hosts / workers, rounded up) x deadline; retries and their backoff share each
    # host's deadline; a few seconds for the rest (journal, workbook, thread start).
    bound = math.ceil(len(EXPECTED) / WORKERS) * DEADLINE + 5
    assert elapsed < bound, f"{elapsed:.1f} s for a bound of {bound:.1f} s"

    by_host = {f.host: f for f in outcome.evaluation.findings}
    assert sorted(by_host) == sorted(EXPECTED)
    for host, expected in EXPECTED.items():
        finding = by_host[host]
        if isinstance(expected, Status):
            assert finding.status is expected, (host, finding.reason)
            continue
        category, phrase = expected
        allowed = category if isinstance(category, frozenset) else frozenset({category})
        failure = finding.facts.failure
        assert failure is not None, (host, finding.status, finding.reason)
        assert failure.category in allowed, (host, failure)
        assert phrase in failure.message, (host, failure.message)

    journal = [json.loads(line) for line in (tmp_path / "out" / "facts.jsonl").read_text().splitlines()]
    assert sorted(j["host"] for j in journal) == sorted(EXPECTED)  # each once
    hosts_sheet = load_workbook(tmp_path / "out" / "KB934709-remediation.xlsx")["Hosts"]
    listed = [row[0] for row in hosts_sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    assert sorted(listed) == sorted(EXPECTED)

    # Nothing is left behind: kbscan's workers have unwound (the process-wide watchdog is
    # the one kbscan thread that stays) and every socket is closed. The simulated hosts'
    # own handler threads may still be finishing a sleep; they are not kbscan's.
    def ours() -> list[str]:
        return [t.name for t in threading.enumerate()
                if t.name.startswith("kbscan") and t.name != "kbscan-deadlines"]  # fmt: skip

    for _ in range(50):
        if not ours():
            break
        time.sleep(0.1)
    assert ours() == []
    for _ in range(50):  # the simulated hosts' own handler threads close their sockets
        if _open_descriptors() <= descriptors + 2:
            break
        time.sleep(0.1)
    assert _open_descriptors() <= descriptors + 2


def test_a_timeout_names_the_phase_and_is_not_retried(tmp_path: Path) -> None:
    with hostile_fleet(tmp_path) as f:
        outcome = app.scan_fleet(
            f.inventory, "KB934709", tmp_path / "out", SETTINGS,
            limits=Limits(deadline=DEADLINE, workers=len(EXPECTED), retries=3),
            formats=[OutputFormat.JSON],
        )  # fmt: skip
        drip = f.endpoints["drip-body"].connections
    by_host = {x.host: x for x in outcome.evaluation.findings}
    failure = by_host["drip-body"].facts.failure
    assert failure is not None and failure.category is FailureCategory.TIMEOUT
    assert failure.message.startswith("no complete answer within 3 s: body still arriving (")
    assert drip == 1  # one conversation: a deadline is not retried


def test_ctrl_c_during_slow_drip_hosts_ends_the_scan_at_once(tmp_path: Path) -> None:
    import csv
    import signal
    import subprocess
    import sys

    from kbscan.simulator.hostile import HostileEndpoint
    from tests.simfleet import PASSWORD, USER

    with HostileEndpoint("drip-body") as drip, HostileEndpoint("drip-headers") as headers:
        inventory = tmp_path / "hosts.csv"
        with inventory.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["host", "address", "port"])
            for i, endpoint in enumerate([drip, headers, drip, headers]):
                writer.writerow([f"slow{i}", endpoint.address, endpoint.port])
        out = tmp_path / "out"
        proc = subprocess.Popen(
            [sys.executable, "-m", "kbscan", "scan", str(inventory), "--kb", "KB934709",
             "-o", str(out), "--transport", "basic", "--allow-basic-over-http", "--username",
             USER, "--workers", "4", "--deadline", "60", "--read-timeout", "30",
             "--operation-timeout", "20", "--no-progress"],
            env={**os.environ, "KBSCAN_PASSWORD": PASSWORD},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while drip.connections + headers.connections < 4 and time.monotonic() < deadline:
            time.sleep(0.05)  # every worker is now held by a dripping host
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        ended = time.monotonic() - interrupted
    assert proc.returncode == 130
    assert ended < 5, f"{ended:.1f} s after Ctrl-C with a 60 s deadline"
    assert (out / "facts.jsonl").exists()
