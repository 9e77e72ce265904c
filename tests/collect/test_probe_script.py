"""The probe script run by hand: the simulator's cmd runs the batch file on every demo
host, and `kbscan offline` judges what it wrote exactly as a WinRM scan judges that host."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kbscan import app
from kbscan.cli import run
from kbscan.collect.winrm import WinrmSettings
from kbscan.limits import Limits
from kbscan.paths import data_dir
from kbscan.simulator.batch import run_batch
from kbscan.simulator.fleet import SimulatedFleet
from tests.simfleet import PASSWORD, SCRIPT_AT, USER, demo_hosts, run_probe_script, variant

BASELINE = data_dir() / "demo" / "baseline.toml"
# A conversation's faults (down, timeout, refused logon, garbage on the wire) belong to
# WinRM; a script run on the host by hand meets none of them.
NETWORK_FAULTS = {"normal"}


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("script") / "kbscan-probe.cmd"
    return (
        app.write_probe_script((), path, baseline=BASELINE, copy_files=True).read_bytes().decode()
    )


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, script: str) -> tuple[Path, Path]:
    """The demo fleet scanned over WinRM (copies fetched), and judged from the script's
    outputs: the two report folders."""
    root = tmp_path_factory.mktemp("both")
    hosts = [h for h in demo_hosts() if h.behaviour in NETWORK_FAULTS]
    with SimulatedFleet(hosts, USER, PASSWORD, operation_timeout=0.5) as fleet:
        inventory = fleet.write_inventory(root / "inv.csv", transport="ntlm")
        settings = WinrmSettings(
            username=USER, password=PASSWORD, transport="ntlm", fetch_files=True,
            read_timeout=4, operation_timeout=2,
        )  # fmt: skip
        app.scan_fleet(
            inventory, (), root / "scan", settings,
            limits=Limits(deadline=20, workers=8, retries=0, processes=1),
            baseline=BASELINE,
        )  # fmt: skip
    outputs = root / "outputs"
    run_probe_script(hosts, script, outputs)
    outcome = app.judge_offline(
        [outputs], (), root / "offline", baseline=BASELINE, inventory=inventory
    )
    assert not outcome.problems
    return root / "scan", root / "offline"


def _normal_hosts() -> set[str]:
    return {h.host for h in demo_hosts() if h.behaviour in NETWORK_FAULTS}


def _facts(folder: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for line in (folder / "facts.jsonl").read_text().splitlines():
        data = json.loads(line)
        for key in ("collected_at", "collector"):
            data.pop(key)
        for f in data.get("files", []):
            f.pop("binary_source", None)
            # a copy the host refused: WinRM says so for the first file it fetched only,
            # the script for each (test_a_refused_copy_is_said_for_each_file)
            f.pop("binary_error", None)
        found[data["host"]] = data
    return found


def test_the_script_yields_the_facts_a_winrm_scan_collects(both: tuple[Path, Path]) -> None:
    scanned, offline = (_facts(folder) for folder in both)
    assert scanned.keys() == offline.keys()
    normal = _normal_hosts()
    assert len(normal) > 30
    for host in normal:
        assert offline[host] == scanned[host], host


def _statuses(folder: Path) -> dict[tuple[str, str], tuple[str, str]]:
    text = next(folder.glob("*findings.csv")).read_text(encoding="utf-8-sig")
    return {
        (row["host"], row["kb"]): (row["status"], row["reason"])
        for row in csv.DictReader(io.StringIO(text))
    }


def test_and_the_same_statuses_and_reasons(both: tuple[Path, Path]) -> None:
    scanned, offline = (_statuses(folder) for folder in both)
    normal = _normal_hosts()
    same = {k for k in scanned if k[0] in normal}
    assert same and all(offline[k] == scanned[k] for k in same), [
        (k, scanned[k], offline[k]) for k in same if offline[k] != scanned[k]
    ]


def _cells(book: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cells, times masked (the scan's clock, the host's clock)."""
    wb = openpyxl.load_workbook(book)
    return {
        ws.title: [
            ["<time>" if isinstance(v, datetime) else v for v in row]
            for row in ws.iter_rows(values_only=True)
        ]
        for ws in wb.worksheets
    }


def test_offline_writes_the_workbook_a_scan_writes(both: tuple[Path, Path]) -> None:
    """Cell by cell, every sheet: what differs is how the hosts were read (the Collector
    column) and what was read (the inventory, the outputs' folder), nothing else."""
    scanned, offline = (_cells(next(folder.glob("*.xlsx"))) for folder in both)
    assert scanned.keys() == offline.keys()
    differ = []
    for title, rows in scanned.items():
        assert len(offline[title]) == len(rows), title
        for got, want in zip(offline[title], rows, strict=True):
            differ += [(w, g) for w, g in zip(want, got, strict=True) if w != g]
    hosts = len(_normal_hosts())
    assert sorted(set(differ)) == sorted(
        {("winrm", "offline"), (str(both[0].parent / "inv.csv"), str(both[0].parent / "outputs"))}
    )
    assert differ.count(("winrm", "offline")) == hosts


def test_the_script_runs_on_every_demo_profile(script: str, tmp_path: Path) -> None:
    """The hosts whose WinRM listener misbehaves too: run by hand, every one is read."""
    hosts = demo_hosts()
    outputs = run_probe_script(hosts, script, tmp_path)
    assert len(outputs) == len(hosts)
    outcome = app.judge_offline([tmp_path], (), tmp_path / "r", baseline=BASELINE)
    assert not outcome.problems
    assert all(f.facts.failure is None for f in outcome.evaluation.findings)


def test_a_refused_copy_is_said_for_each_file(both: tuple[Path, Path]) -> None:
    offline = _facts_raw(both[1])
    refused = [h.host for h in demo_hosts() if h.extra.get("deny_read")]
    assert refused
    for host in refused:
        present = [f for f in offline[host]["files"] if f["present"]]
        assert present and all("could not copy" in f["binary_error"] for f in present), host


def _facts_raw(folder: Path) -> dict[str, dict[str, Any]]:
    lines = (folder / "facts.jsonl").read_text().splitlines()
    return {json.loads(line)["host"]: json.loads(line) for line in lines}


def test_a_32bit_agent_runs_it_again_in_the_native_cmd(script: str) -> None:
    host = variant("lon-smtp01", "wow01", shell_32bit=True)
    run = run_batch(host, script, SCRIPT_AT)
    output = run.written("C:\\kbscan\\WOW01.kbscan.txt")
    assert output is not None and b"PROCESSOR_ARCHITEW6432=\r\n" in output


def test_without_sysnative_the_32bit_view_is_refused(script: str, tmp_path: Path) -> None:
    host = variant(
        "lon-smtp01", "wow02", shell_32bit=True, sysnative=False,
        env={"SystemRoot": "C:\\WINDOWS", "PROCESSOR_ARCHITECTURE": "AMD64"},
    )  # fmt: skip
    run_probe_script([host], script, tmp_path)
    outcome = app.judge_offline([tmp_path], (), tmp_path / "r", baseline=BASELINE)
    assert [p.path for p in outcome.problems] == [str(tmp_path / "WOW02.kbscan.txt")]
    assert "32-bit" in outcome.problems[0].message
    assert {f.status.value for f in outcome.evaluation.findings} == {"UNKNOWN"}


def test_on_a_host_without_wmic_reg_and_sc_the_output_says_so(script: str, tmp_path: Path) -> None:
    """Windows 2000 as shipped: the script runs, and offline names what to do instead."""
    host = variant("lon-smtp01", "w2k01", extra={"no_tools": True})
    run_probe_script([host], script, tmp_path)
    outcome = app.judge_offline([tmp_path], (), tmp_path / "r", baseline=BASELINE)
    assert len(outcome.problems) == 1
    assert "has no wmic.exe, reg.exe, sc.exe (Windows 2000 ships without them)" in str(
        outcome.problems[0]
    )


def test_the_script_takes_an_output_folder_and_writes_nowhere_else(script: str) -> None:
    host = demo_hosts()[0]
    run = run_batch(host, script, SCRIPT_AT, ("\\\\collector\\drop",))
    name = host.computer_name
    assert sorted(run.files) == sorted(
        {f"\\\\collector\\drop\\{name}.kbscan.txt"}
        | {p for p in run.files if p.startswith(f"\\\\collector\\drop\\{name}.files\\")}
    )
    assert b"==KBSCAN:end==" in (run.written(f"\\\\collector\\drop\\{name}.kbscan.txt") or b"")


def test_the_script_is_plain_cmd_that_windows_2000_runs(script: str) -> None:
    assert script.startswith("@echo off\r\n")
    code = "\n".join(line for line in script.split("\r\n") if not line.startswith("rem "))
    starts = r'(?:^|(?<!>)&|(?<!in )\(|\b(?:do|else)\s)\s*@?"?([\w.\\%:~-]+)'
    commands = {m.group(1).lower() for m in re.finditer(starts, code, re.M)}
    builtin = {"echo", "if", "for", "set", "setlocal", "endlocal", "exit", "rem", "copy", "mkdir"}
    tools = {"chcp", "hostname", "wmic", "reg", "sc"}  # XP and later; 2000 Support Tools
    native = {"%systemroot%\\sysnative\\cmd.exe"}
    assert commands <= builtin | tools | native, commands - builtin - tools - native
    assert "enabledelayedexpansion" not in script.lower() and "!" not in script
    assert "rem kbscan probe script for KB934709, " in script
    assert re.search(r"rem Made by kbscan \S+ on \d{4}-\d\d-\d\d \d\d:\d\d UTC", script)
    assert all(len(line) < 8191 for line in script.split("\r\n"))  # cmd's line limit


def test_cli_probe_script_then_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cmd = tmp_path / "probe.cmd"
    assert (
        run(["probe-script", "--kb", "KB934709", "-o", str(cmd)], io.StringIO(), io.StringIO()) == 0
    )
    run_probe_script([demo_hosts()[0]], cmd.read_bytes().decode(), tmp_path / "outs")
    out, err = io.StringIO(), io.StringIO()
    code = run(["offline", str(tmp_path / "outs"), "-o", str(tmp_path / "r")], out, err)
    assert code == 0, err.getvalue()
    assert "facts.jsonl" in out.getvalue()
    line = json.loads((tmp_path / "r" / "facts.jsonl").read_text().splitlines()[0])
    assert line["collector"] == "offline"
