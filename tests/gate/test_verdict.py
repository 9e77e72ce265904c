"""The change gate through the CLI: exit codes, listed hosts, verdict files."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kbscan.cli import run
from kbscan.paths import data_dir

DEMO = data_dir() / "demo" / "collected"
ACTION = {"NEEDS_HOTFIX", "NEEDS_SERVICE_PACK", "RESTART_PENDING", "SUSPECT"}


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _gate(tmp: Path, *extra: str, facts: Path = DEMO) -> tuple[int, dict, str]:
    code, out, err = _run("gate", str(facts), "--kb", "KB934709", "-o", str(tmp / "out"),
                          "--today", "2026-11-24", *extra)  # fmt: skip
    verdict_file = tmp / "out" / "KB934709-verdict.json"
    verdict = json.loads(verdict_file.read_text()) if verdict_file.exists() else {}
    return code, verdict, out + err


def _demo_statuses() -> dict[str, str]:
    from datetime import UTC, datetime

    from kbscan import app
    from kbscan.collect.offline import open_facts
    evaluation, _ = app.judge(open_facts(DEMO), app.kb_set("KB934709"), str(DEMO), datetime.now(UTC))
    return {f.host: f.status.value for f in evaluation.findings}


STATUSES = _demo_statuses()
FAILING = sorted(h for h, s in STATUSES.items() if s in ACTION)
UNKNOWN = sorted(h for h, s in STATUSES.items() if s == "UNKNOWN")


def _policy(tmp: Path, text: str) -> Path:
    path = tmp / "policy.toml"
    path.write_text(text)
    return path


def test_default_policy_fails_on_the_demo_fleet(tmp_path: Path) -> None:
    code, verdict, out = _gate(tmp_path, "--junit", str(tmp_path / "junit.xml"))
    assert code == 1
    assert verdict["passed"] is False
    assert sorted(h["host"] for h in verdict["failing_hosts"]) == FAILING
    assert "KB934709 change gate: FAILED" in out
    assert {i["file"] for i in verdict["inputs"]} >= {str(DEMO)}
    assert all(len(i["sha256"]) == 64 for i in verdict["inputs"])
    assert verdict["kbscan_version"] and verdict["policy"]["name"] == "default"
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(STATUSES)
    failed = sorted(c.get("name") for c in cases if c.find("failure") is not None)
    assert failed == FAILING
    md = (tmp_path / "out" / "KB934709-verdict.md").read_text()
    assert md.startswith("### KB934709 change gate: FAILED")


def test_passes_when_only_compliant_hosts_are_in_scope(tmp_path: Path) -> None:
    compliant = sorted(h for h, s in STATUSES.items() if s == "COMPLIANT")
    policy = _policy(
        tmp_path, f"name = 'compliant only'\n[scope]\nhosts = {json.dumps(compliant)}\n"
    )
    code, verdict, _ = _gate(tmp_path, "--policy", str(policy))
    assert code == 0 and verdict["passed"] is True
    assert verdict["counts"]["out of scope"] == len(STATUSES) - len(compliant)
    assert verdict["failing_hosts"] == []


def test_scope_by_site_owner_and_tag(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "[scope]\nsites = ['Frankfurt']\nowners = ['infra']\n")
    code, verdict, _ = _gate(tmp_path, "--policy", str(policy))
    assert code == 1
    frankfurt_infra = {h for h in FAILING if h.startswith("fra-")} - {"fra-r2-02"}
    assert {h["host"] for h in verdict["failing_hosts"]} == frankfurt_infra
    assert verdict["policy"]["scope"]["sites"] == ["Frankfurt"]


@pytest.mark.parametrize(
    ("limits", "passes"),
    [
        ("max_unknown = 4", True),
        ("max_unknown = 3", False),
        ("max_unknown_share = 0.5", True),
        ("max_unknown_share = 0.05", False),
    ],
)
def test_unknown_thresholds(tmp_path: Path, limits: str, passes: bool) -> None:
    # Action statuses pass here, so only the UNKNOWN hosts can fail the gate.
    statuses = "\n".join(f"{s} = 'pass'" for s in sorted(ACTION))
    policy = _policy(tmp_path, f"{limits}\n[statuses]\n{statuses}\n")
    code, verdict, _ = _gate(tmp_path, "--policy", str(policy))
    assert verdict["passed"] is passes
    assert code == (0 if passes else 1)
    assert verdict["failing_hosts"] == []
    if not passes:
        assert any("could not be judged (UNKNOWN)" in r for r in verdict["reasons"])
    assert verdict["status_counts"]["UNKNOWN"] == len(UNKNOWN)


def test_warn_treatment(tmp_path: Path) -> None:
    statuses = "\n".join(f"{s} = 'warn'" for s in sorted(ACTION))
    policy = _policy(tmp_path, f"[statuses]\n{statuses}\n")
    code, verdict, _ = _gate(tmp_path, "--policy", str(policy))
    assert code == 0 and verdict["counts"]["warn"] == len(FAILING) + len(UNKNOWN)


def _exemptions(tmp: Path, expires: str, hosts: list[str]) -> Path:
    path = tmp / "exemptions.csv"
    rows = ["host,kb,reason,approver,expires"]
    rows += [
        f"{h},KB934709,vendor appliance; replaced in Q1,J. Smith (CAB-1207),{expires}"
        for h in hosts
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_valid_exemptions_pass_and_are_listed(tmp_path: Path) -> None:
    exemptions = _exemptions(tmp_path, "2026-12-31", FAILING)
    code, verdict, out = _gate(tmp_path, "--exemptions", str(exemptions))
    assert code == 0 and verdict["passed"] is True
    assert sorted(e["host"] for e in verdict["exemptions_used"]) == FAILING
    assert verdict["counts"]["exempt"] == len(FAILING)
    book = load_workbook(tmp_path / "out" / "KB934709-remediation.xlsx")
    gate_rows = list(book["Gate"].iter_rows(values_only=True))
    assert gate_rows[0][0] == "KB934709 change gate: PASSED"
    used = sorted(r[1] for r in gate_rows if r[0] == "used")
    assert used == FAILING
    assert "Exemptions:" in out


def test_expired_exemption_fails_and_says_so(tmp_path: Path) -> None:
    exemptions = _exemptions(tmp_path, "2026-11-23", FAILING[:1])
    code, verdict, _ = _gate(tmp_path, "--exemptions", str(exemptions))
    assert code == 1
    assert [e["host"] for e in verdict["exemptions_expired"]] == FAILING[:1]
    failing = {h["host"]: h["reason"] for h in verdict["failing_hosts"]}
    assert failing[FAILING[0]].startswith("exemption expired on 2026-11-23 (J. Smith (CAB-1207))")
    assert "1 exemption(s) have expired" in verdict["reasons"]


def test_exemption_expiring_today_still_holds(tmp_path: Path) -> None:
    exemptions = _exemptions(tmp_path, "2026-11-24", FAILING)
    assert _gate(tmp_path, "--exemptions", str(exemptions))[0] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_unkown = 0\n", "max_unkown: unknown key"),
        ("max_unknown = -1\n", "max_unknown: -1 is not a whole number"),
        ("max_unknown_share = 2\n", "max_unknown_share: 2 is not a share from 0 to 1"),
        (
            "[statuses]\nSUSPECT = 'ignore'\n",
            "statuses.SUSPECT: 'ignore' is not fail, warn or pass",
        ),
        ("[statuses]\nPATCHED = 'pass'\n", "statuses.PATCHED: unknown status"),
        ("[scope]\nregion = ['EU']\n", "scope.region: unknown key"),
        ("name = 'x'\nmax_unknown = \n", "invalid TOML"),
    ],
)
def test_malformed_policy_is_an_input_error(tmp_path: Path, text: str, message: str) -> None:
    policy = _policy(tmp_path, text)
    code, _, out = _gate(tmp_path, "--policy", str(policy))
    assert code == 2
    assert f"kbscan: error: {policy}" in out and message in out


def test_malformed_exemption_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "exemptions.csv"
    path.write_text("host,kb,reason,approver,expires\nlon-smtp02,KB934709,ok,me,2026-12-01\n"
                    "lon-smtp05,KB934709,ok,me,next week\n")  # fmt: skip
    code, _, out = _gate(tmp_path, "--exemptions", str(path))
    assert code == 2
    assert f"{path}:3: expires 'next week' is not a date (YYYY-MM-DD)" in out


def test_gate_refuses_to_vouch_for_broken_facts(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_text('{"host": "x"}\n')
    code, _, out = _gate(tmp_path, facts=facts)
    assert code == 2 and "cannot vouch" in out


def test_today_defaults_to_the_run_date() -> None:
    from kbscan.gate.model import Exemption

    assert Exemption("h", "KB1", "r", "a", date(2026, 1, 1), 2).valid_on(date(2026, 1, 1))
