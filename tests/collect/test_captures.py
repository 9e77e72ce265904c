"""What administrators already have: systeminfo and wmic qfe captures, written by hand
from each release's output (2000 read with systeminfo /s, XP, XP x64, 2003, 2003 R2,
IA-64, Vista, 2008, 7, 2008 R2; English, German, French and Japanese; cmd's OEM code
pages and PowerShell's UTF-16), and every way such a file can be bad."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from kbscan import app
from kbscan.cli import run
from kbscan.model import Status
from kbscan.paths import data_dir
from tests.helpers import FIXTURES
from tests.simfleet import demo_hosts, run_probe_script

CAPTURES = FIXTURES / "captures"
EXPECTED = json.loads((FIXTURES / "captures.expected.json").read_text(encoding="utf-8"))
BASELINE = data_dir() / "demo" / "baseline.toml"


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Status, str]]:
    out = tmp_path_factory.mktemp("caps")
    outcome = app.judge_offline([CAPTURES], (), out, baseline=BASELINE)
    assert not outcome.problems
    return {(f.host, f.kb_id): (f.status, f.reason) for f in outcome.evaluation.findings}


def test_captures_decide_service_packs_and_releases_never_compliance(
    judged: dict[tuple[str, str], tuple[Status, str]],
) -> None:
    statuses = {s for s, _ in judged.values()}
    assert Status.COMPLIANT not in statuses and Status.NEEDS_HOTFIX not in statuses
    assert judged[("nyc-db-ia64", "KB934709")][0] is Status.NEEDS_SERVICE_PACK
    assert judged[("fra-mail02", "KB2492386")][0] is Status.NEEDS_SERVICE_PACK
    assert judged[("xp64-cad03", "KB934709")][0] is Status.NOT_APPLICABLE  # a workstation
    assert judged[("w2k-dc01", "KB934709")][0] is Status.NOT_APPLICABLE
    # a file version is what decides the rest, and no capture holds one
    status, reason = judged[("tyo-fs01", "KB981506")]
    assert status is Status.UNKNOWN and "not collected" in reason


def test_a_hosts_systeminfo_and_its_wmic_qfe_are_one_host(tmp_path: Path) -> None:
    outcome = app.judge_offline([CAPTURES], (), tmp_path, baseline=BASELINE)
    w2k = next(f.facts for f in outcome.evaluation.findings if f.host == "w2k-dc01")
    assert w2k.os is not None and w2k.os.version == "5.0.2195"
    assert w2k.hotfixes == ("KB329115", "KB823182", "KB835732", "Q147222")
    assert w2k.collector == "offline" and w2k.blind_spots
    tyo = next(f.facts for f in outcome.evaluation.findings if f.host == "tyo-fs01")
    assert tyo.hotfixes == ("KB2425227", "KB976902", "KB981506")  # systeminfo + Get-HotFix
    qfe_only = next(f for f in outcome.evaluation.findings if f.host == "w2k-fs02")
    assert qfe_only.status is Status.UNKNOWN and "operating system" in qfe_only.reason


def test_a_file_holding_a_hosts_systeminfo_and_its_qfe_gives_both(tmp_path: Path) -> None:
    """An administrator's `systeminfo > x.txt & wmic qfe get HotFixID >> x.txt`."""
    both = (CAPTURES / "lon-r2-07.systeminfo.txt").read_bytes() + (
        b"\r\nHotFixID  \r\nKB981506  \r\nKB2492386  \r\n\r\n"
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "lon-r2-07.txt").write_bytes(both)
    outcome = app.judge_offline([tmp_path / "in"], ("KB934709",), tmp_path / "r")
    assert not outcome.problems
    (facts,) = {f.host: f.facts for f in outcome.evaluation.findings}.values()
    assert facts.os is not None and facts.os.service_pack == 2
    assert facts.hotfixes == ("KB2492386", "KB925398", "KB934709", "KB981506")


def test_the_script_and_earlier_reports_in_the_folder_are_not_outputs(
    probe_outputs: Path, tmp_path: Path
) -> None:
    """The script writes its outputs beside itself, and `kbscan offline DIR -o DIR` puts
    its reports there: judging the folder again reads the outputs alone."""
    folder = tmp_path / "drop"
    shutil.copytree(probe_outputs, folder)
    app.write_probe_script("KB934709", folder / "kbscan-probe.cmd")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")  # Explorer was here
    (folder / "desktop.ini").write_text("[.ShellClassInfo]\r\n")
    first = app.judge_offline([folder], ("KB934709",), folder)
    again = app.judge_offline([folder], ("KB934709",), folder)
    assert not first.problems and not again.problems
    hosts = {f.host for f in again.evaluation.findings}
    assert hosts == {"lon-smtp01", "lon-smtp02", "nyc-smtp03"}


def _copy(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(CAPTURES / name, folder / name)
    return folder


def _offline(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["offline", *args], out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_truncated_systeminfo_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "xp-desk17.systeminfo.txt")
    text = (CAPTURES / "lon-r2-07.systeminfo.txt").read_bytes().split(b"\r\n")
    (folder / "lon-r2-07.systeminfo.txt").write_bytes(b"\r\n".join(text[:18]))
    code, _out, err = _offline(str(folder), "--kb", "KB934709", "-o", str(tmp_path / "r"))
    assert code == 2
    assert f"{folder / 'lon-r2-07.systeminfo.txt'}:18: systeminfo's output is cut short" in err
    journal = (tmp_path / "r" / "facts.jsonl").read_text().splitlines()
    hosts = {json.loads(line)["host"]: json.loads(line)["failure"] for line in journal}
    assert hosts["lon-r2-07"]["category"] == "unparseable output"  # in every report
    assert hosts["xp-desk17"] is None


def test_a_file_from_another_tool_is_named_and_its_host_unknown(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "xp-desk17.systeminfo.txt")
    (folder / "srv9.ipconfig.txt").write_text(
        "Windows IP Configuration\r\n\r\n   Host Name . . : SRV9\r\n"
    )
    outcome = app.judge_offline([folder], ("KB934709",), tmp_path / "r")
    assert [str(p) for p in outcome.problems] == [
        f"{folder / 'srv9.ipconfig.txt'}:1: not a kbscan probe-script output, a systeminfo "
        "output or a wmic qfe output"
    ]
    by_host = {f.host: f.status for f in outcome.evaluation.findings}
    assert by_host == {"srv9": Status.UNKNOWN, "xp-desk17": Status.NOT_APPLICABLE}


def test_two_outputs_of_one_kind_for_one_host_are_an_error(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "xp-desk17.systeminfo.txt", "fra-mail02.systeminfo.txt")
    shutil.copy(CAPTURES / "xp-desk17.systeminfo.txt", folder / "xp-desk17-again.txt")
    outcome = app.judge_offline([folder], ("KB934709",), tmp_path / "r")
    assert len(outcome.problems) == 1
    message = str(outcome.problems[0])
    assert "2 systeminfo outputs for host xp-desk17" in message and "xp-desk17-again.txt" in message
    by_host = {f.host: f.facts.failure for f in outcome.evaluation.findings}
    assert by_host["xp-desk17"] is not None and by_host["fra-mail02"] is None


@pytest.fixture(scope="module")
def probe_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Probe-script outputs, made for KB934709 alone, of three demo hosts."""
    folder = tmp_path_factory.mktemp("outs")
    script = app.write_probe_script("KB934709", folder / "p.cmd").read_bytes().decode()
    (folder / "p.cmd").unlink()
    hosts = [h for h in demo_hosts() if h.host in ("lon-smtp01", "lon-smtp02", "nyc-smtp03")]
    run_probe_script(hosts, script, folder)
    return folder


def test_a_truncated_probe_output_names_file_and_line(probe_outputs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(probe_outputs, folder)
    cut = folder / "LON-SMTP02.kbscan.txt"
    cut.write_bytes(cut.read_bytes()[:900])
    outcome = app.judge_offline([folder], ("KB934709",), tmp_path / "r")
    lines = cut.read_bytes().count(b"\n") + 1
    assert [str(p) for p in outcome.problems] == [
        f"{cut}:{lines}: the probe's output is incomplete or not the probe's"
        + str(outcome.problems[0]).split("not the probe's", 1)[1]
    ]
    statuses = {f.host: f.status for f in outcome.evaluation.findings}
    assert statuses["lon-smtp02"] is Status.UNKNOWN
    assert statuses["lon-smtp01"] is not Status.UNKNOWN


def test_an_output_for_other_kbs_is_refused_for_that_host(
    probe_outputs: Path, tmp_path: Path
) -> None:
    outcome = app.judge_offline([probe_outputs], ("KB981506",), tmp_path / "r")
    assert len(outcome.problems) == 3
    assert all("was made for KB934709 and does not read" in str(p) for p in outcome.problems)
    assert {f.status for f in outcome.evaluation.findings} == {Status.UNKNOWN}


def test_without_kb_the_outputs_say_what_they_were_made_for(
    probe_outputs: Path, tmp_path: Path
) -> None:
    code, out, err = _offline(str(probe_outputs), "-o", str(tmp_path / "r"))
    assert code == 0, err
    assert "KB934709" in out and "facts.jsonl" in out


def test_an_inventory_host_without_output_is_unknown_with_its_columns(
    probe_outputs: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "hosts.csv"
    inventory.write_text("host,site,owner\nlon-smtp01,London,mail\nlon-smtp99,London,mail\n")
    outcome = app.judge_offline([probe_outputs], ("KB934709",), tmp_path / "r", inventory=inventory)
    by_host = {f.host: f for f in outcome.evaluation.findings}
    assert by_host["lon-smtp99"].status is Status.UNKNOWN
    assert "no offline output" in by_host["lon-smtp99"].reason
    assert by_host["lon-smtp01"].facts.target is not None
    assert by_host["lon-smtp01"].facts.target.site == "London"
    assert {"lon-smtp02", "nyc-smtp03"} <= by_host.keys()  # outputs beyond the inventory: judged
