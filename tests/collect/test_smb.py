"""The SMB collector: the real impacket client against the SMB endpoint on loopback,
through NTLM, with the same host profiles the WinRM simulator serves."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kbscan import app
from kbscan.cli import run
from kbscan.collect.access import Access
from kbscan.collect.choose import ProtocolCollector
from kbscan.collect.plan import CollectionPlan, plan_for
from kbscan.collect.smb import SmbCollector, SmbSettings
from kbscan.collect.winrm import WinrmSettings
from kbscan.errors import InputError
from kbscan.evaluate import evaluate
from kbscan.inventory import read_inventory
from kbscan.kb.baseline import KbSet
from kbscan.limits import HostDeadline, Limits
from kbscan.model import Arch, FailureCategory, HostFacts, Protocol, Status, Target
from kbscan.paths import data_dir
from kbscan.simulator.fleet import SimulatedFleet
from kbscan.simulator.hostile import HostileEndpoint
from kbscan.simulator.profile import SimHost
from kbscan.simulator.smb_endpoint import SmbEndpoint
from tests.simfleet import PASSWORD, USER, demo_hosts, variant

BASELINE = data_dir() / "demo" / "baseline.toml"
SMB = SmbSettings(username=USER, password=PASSWORD, read_timeout=3)
DEADLINE = 6.0  # seconds a host, all in
WINRM = WinrmSettings(
    username=USER, password=PASSWORD, transport="ntlm", read_timeout=3, operation_timeout=2,
)  # fmt: skip


def _soon() -> HostDeadline:
    return HostDeadline.from_now(DEADLINE)


def _kbs() -> KbSet:
    return app.kb_set((), None, BASELINE)


@pytest.fixture(scope="module")
def plan_kbs() -> KbSet:
    return _kbs()


def _collect(
    host: SimHost,
    kbs: KbSet,
    settings: SmbSettings = SMB,
    services: tuple[str, ...] = (),
    deadline: float = DEADLINE,
) -> tuple[HostFacts, int]:
    """``services``: the plan's, as a set whose KBs need them installed would have it."""
    endpoint = SmbEndpoint(host, USER, PASSWORD)
    plan = plan_for(kbs.kbs)
    if services:
        plan = dataclasses.replace(plan, services=services)
    try:
        target = Target(host=host.host, address="127.0.0.1", smb_port=endpoint.address[1])
        collected = SmbCollector(plan, settings).collect(target, HostDeadline.from_now(deadline))
        return collected.facts, collected.round_trips
    finally:
        endpoint.stop()


def _demo(name: str) -> SimHost:
    return next(h for h in demo_hosts() if h.host == name)


def test_reads_a_2003_host_as_winrm_does(plan_kbs: KbSet) -> None:
    facts, trips = _collect(_demo("lon-smtp01"), plan_kbs)
    assert facts.failure is None and facts.collector == "smb"
    assert facts.computer_name == "LON-SMTP01" and facts.system_root == "C:\\WINDOWS"
    assert facts.os is not None
    assert (facts.os.version, facts.os.service_pack, facts.os.product_type) == ("5.2.3790", 2, 3)
    assert facts.architecture is Arch.X86
    assert dict(facts.services or ()) == {"SMTPSVC": "RUNNING"}  # the states the judge uses
    assert facts.hotfixes == ("KB934709",)
    assert facts.pending_renames == ()
    aqueue = next(f for f in facts.files if f.path.lower().endswith("aqueue.dll"))
    assert aqueue.present and aqueue.binary is not None
    assert str(aqueue.binary.file_version) == "6.0.3790.4094"
    assert aqueue.binary.version_text is not None and aqueue.binary.version_text.branch == "qfe"
    assert aqueue.modified == datetime(2007, 6, 6, 16, 32, tzinfo=UTC)
    assert aqueue.binary.sha256 is None and aqueue.binary.bytes_read is not None
    assert aqueue.binary.bytes_read < aqueue.binary.size
    # what SMB cannot see is said, and nothing is claimed for it
    assert facts.process_starts is None
    assert any("inetinfo.exe" in b for b in facts.blind_spots)
    assert facts.system_started is not None
    assert trips > 5


@pytest.mark.parametrize(
    ("name", "dialect", "arch"),
    [("lon-smtp01", "NT LM 0.12", Arch.X86), ("lon-fs01", "SMB 2", Arch.X64)],
)
def test_2003_speaks_smb1_only_and_later_releases_smb2(
    name: str, dialect: str, arch: Arch, plan_kbs: KbSet
) -> None:
    from impacket.smbconnection import SMBConnection

    host = _demo(name)
    endpoint = SmbEndpoint(host, USER, PASSWORD)
    try:
        conn = SMBConnection(host.host, "127.0.0.1", sess_port=endpoint.address[1], timeout=3)
        spoken = conn.getDialect()
        conn.close()
    finally:
        endpoint.stop()
    if dialect == "NT LM 0.12":
        assert spoken == "NT LM 0.12"
    else:
        assert spoken != "NT LM 0.12"  # an SMB2 dialect number
    facts, _ = _collect(host, plan_kbs)
    assert facts.failure is None and facts.architecture is arch


def test_a_full_size_dll_is_read_by_ranges_not_copied(plan_kbs: KbSet) -> None:
    from tests.helpers import FULL_SIZE_DLL

    host = variant("lon-smtp01", "big-smtp01")
    host.files["c:\\windows\\system32\\inetsrv\\aqueue.dll"].content = FULL_SIZE_DLL.read_bytes()
    facts, _ = _collect(host, plan_kbs)
    aqueue = next(f for f in facts.files if f.path.lower().endswith("aqueue.dll"))
    assert aqueue.binary is not None and aqueue.size == 501_760
    assert str(aqueue.binary.file_version) == "6.0.3790.4094"
    assert aqueue.binary.bytes_read is not None and aqueue.binary.bytes_read < 8 * 1024


def test_pending_renames_and_a_missing_service_are_read(plan_kbs: KbSet) -> None:
    key = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"
    host = variant(
        "lon-smtp01",
        "staged01",
        services={"IISADMIN": "STOPPED"},
        registry={
            key: {
                "PendingFileRenameOperations": [
                    "REG_MULTI_SZ",
                    "\\??\\C:\\WINDOWS\\system32\\inetsrv\\SET2.tmp\\0!\\??\\C:\\WINDOWS\\"
                    "system32\\inetsrv\\aqueue.dll\\0\\0",
                ]
            }
        },
    )
    facts, _ = _collect(host, plan_kbs)
    assert dict(facts.services or ()) == {"SMTPSVC": ""}
    assert facts.pending_renames is not None and len(facts.pending_renames) == 1
    assert facts.pending_renames[0].destination.endswith("aqueue.dll")
    assert facts.hotfixes == ()  # the variant's registry has no update records


# --- the faults a real fleet has ---------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "category", "words"),
    [
        ("registry-stopped", FailureCategory.UNREACHABLE, "Remote Registry service"),
        ("registry-denied", FailureCategory.REFUSED_CREDENTIALS, "remote registry"),
        ("admin-denied", FailureCategory.REFUSED_CREDENTIALS, "ADMIN$"),
        ("refuse", FailureCategory.REFUSED_CREDENTIALS, "refused the logon"),
    ],
)
def test_faults_land_in_the_usual_categories_with_clear_words(
    behaviour: str, category: FailureCategory, words: str, plan_kbs: KbSet
) -> None:
    host = variant("lon-smtp01", f"fault-{behaviour}", smb={"behaviour": behaviour})
    facts, _ = _collect(host, plan_kbs)
    assert facts.failure is not None
    assert facts.failure.category is category
    assert words in facts.failure.message
    assert PASSWORD not in facts.failure.message
    if behaviour == "registry-stopped":
        assert "stopped" in facts.failure.message
        finding = evaluate(facts, plan_kbs.kbs[0])
        assert finding.status is Status.UNKNOWN and "445" in finding.action


def test_a_closed_port_is_unreachable_and_worth_a_retry(plan_kbs: KbSet) -> None:
    from kbscan.simulator.fleet import _closed_port

    reserved: list[socket.socket] = []
    target = Target(host="off01", address="127.0.0.1", smb_port=_closed_port(reserved))
    collected = SmbCollector(plan_for(plan_kbs.kbs), SMB).collect(target, _soon())
    for held in reserved:
        held.close()
    assert collected.facts.failure is not None
    assert collected.facts.failure.category is FailureCategory.UNREACHABLE
    assert "refused" in collected.facts.failure.message and collected.transient


def test_a_host_that_hangs_in_the_registry_ends_at_the_deadline(plan_kbs: KbSet) -> None:
    host = variant("lon-smtp01", "wedged01", smb={"behaviour": "hang"})
    settings = SmbSettings(username=USER, password=PASSWORD, read_timeout=30)
    started = time.monotonic()
    facts, _ = _collect(host, plan_kbs, settings, deadline=2)
    took = time.monotonic() - started
    assert facts.failure is not None and facts.failure.category is FailureCategory.TIMEOUT
    assert "registry" in facts.failure.message
    assert took < 2 + 1.5  # the read timeout (30 s) does not stretch the deadline


@pytest.mark.parametrize("behaviour", ["silent", "smb-drip", "smb-nonsense"])
def test_misbehaving_endpoints_are_bounded_by_the_wall_clock(
    behaviour: str, plan_kbs: KbSet
) -> None:
    """A drip of one byte every 0.2 s keeps impacket's per-read timeout (10 s here) happy
    for ever; only the host's deadline ends it."""
    settings = SmbSettings(username=USER, password=PASSWORD, read_timeout=10)
    with HostileEndpoint(behaviour, interval=0.2) as endpoint:
        target = Target(host=f"hostile-{behaviour}", address="127.0.0.1", smb_port=endpoint.port)
        started = time.monotonic()
        collected = SmbCollector(plan_for(plan_kbs.kbs), settings).collect(
            target, HostDeadline.from_now(1.5)
        )
        took = time.monotonic() - started
    failure = collected.facts.failure
    assert failure is not None
    if behaviour == "smb-nonsense":
        assert failure.category in (FailureCategory.SMB_FAULT, FailureCategory.UNREACHABLE)
        assert took < 1.5
    else:
        assert failure.category is FailureCategory.TIMEOUT
        assert "connecting" in failure.message or "logging on" in failure.message
        assert took < 1.5 + 1.0


# --- choosing the protocol -----------------------------------------------------------


def test_auto_falls_back_to_smb_only_where_no_winrm_listener_answers(
    tmp_path: Path, plan_kbs: KbSet
) -> None:
    hosts = [
        variant("lon-smtp01", "nowinrm01", behaviour="absent"),
        variant("lon-smtp01", "refused01", behaviour="refuse", smb={"behaviour": "normal"}),
        variant("lon-smtp01", "winrm01"),
    ]
    with SimulatedFleet(hosts, USER, PASSWORD, operation_timeout=0.5, smb=True) as fleet:
        inventory = fleet.write_inventory(tmp_path / "inv.csv", transport="ntlm")
        targets = read_inventory(inventory).targets
        collector = ProtocolCollector(plan_for(plan_kbs.kbs), Access(WINRM, SMB, Protocol.AUTO))
        results = {t.host: collector.collect(t, _soon()).facts for t in targets}
        smb_logons = {name: ep for name, ep in fleet.smb_running.items()}
        assert smb_logons  # the endpoints ran
    assert results["nowinrm01"].collector == "smb" and results["nowinrm01"].failure is None
    assert results["winrm01"].collector == "winrm" and results["winrm01"].failure is None
    refused = results["refused01"]
    assert refused.collector == "winrm"  # a refusal is an answer: SMB was never tried
    assert refused.failure is not None
    assert refused.failure.category is FailureCategory.REFUSED_CREDENTIALS


def test_inventory_protocol_column_wins_over_the_scan_choice(
    tmp_path: Path, plan_kbs: KbSet
) -> None:
    hosts = [variant("lon-smtp01", "a01"), variant("lon-smtp01", "b01")]
    with SimulatedFleet(hosts, USER, PASSWORD, operation_timeout=0.5, smb=True) as fleet:
        inventory = fleet.write_inventory(
            tmp_path / "inv.csv", transport="ntlm", protocols={"a01": "smb"}
        )
        outcome = app.scan_fleet(
            inventory, "KB934709", tmp_path / "out", WINRM,
            limits=Limits(deadline=DEADLINE, workers=2, retries=0), protocol=Protocol.WINRM,
        )  # fmt: skip
    collectors = {f.host: f.facts.collector for f in outcome.evaluation.findings}
    assert collectors == {"a01": "smb", "b01": "winrm"}
    assert all(f.status is Status.COMPLIANT for f in outcome.evaluation.findings)


def test_inventory_rejects_an_unknown_protocol(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text("host,protocol,smb_port\na01,telnet,\nb01,smb,70000\nc01,SMB,4450\n")
    inventory = read_inventory(path)
    assert [t.host for t in inventory.targets] == ["c01"]
    assert inventory.targets[0].protocol == "smb" and inventory.targets[0].smb_port == 4450
    messages = [str(p) for p in inventory.problems]
    assert any(":2:" in m and "'telnet' is not one of winrm, smb, auto" in m for m in messages)
    assert any(":3:" in m and "smb_port '70000'" in m for m in messages)


def test_without_impacket_the_scan_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "impacket.smbconnection", None)  # as if not installed
    inventory = tmp_path / "inv.csv"
    inventory.write_text("host,protocol\na01,smb\n")
    with pytest.raises(InputError, match=r"pip install 'kbscan\[smb\]'"):
        Access(WINRM, SMB, Protocol.WINRM).check(read_inventory(inventory).targets)
    out, err = _Stream(), _Stream()
    code = run(
        ["scan", str(inventory), "--kb", "KB934709", "--output", str(tmp_path / "o"),
         "--username", "x", "--protocol", "auto", "--no-progress"],
        out, err,
    )  # fmt: skip
    assert code == 2
    assert "pip install 'kbscan[smb]'" in err.getvalue()


class _Stream:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.parts)


# --- the done-when: same profile, same status, whichever protocol -----------------


def _scan_demo(folder: Path, protocol: Protocol) -> dict[tuple[str, str], tuple[Status, str]]:
    hosts = demo_hosts()
    with SimulatedFleet(hosts, USER, PASSWORD, operation_timeout=0.5, smb=True) as fleet:
        inventory = fleet.write_inventory(folder / "inv.csv", transport="ntlm")
        # client and endpoints share this process's one interpreter: a long deadline,
        # so that only the hosts meant to time out do
        settings = WinrmSettings(
            username=USER, password=PASSWORD, transport="ntlm", fetch_files=True,
            read_timeout=4, operation_timeout=2,
        )  # fmt: skip
        outcome = app.scan_fleet(
            inventory, (), folder / "out", settings,
            limits=Limits(deadline=20, workers=8, retries=0, processes=1),
            baseline=BASELINE, protocol=protocol,
        )  # fmt: skip
    return {(f.host, f.kb_id): (f.status, f.reason) for f in outcome.evaluation.findings}


def test_every_demo_host_gets_the_same_status_over_smb_as_over_winrm(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "s").mkdir()
    over_winrm = _scan_demo(tmp_path / "w", Protocol.WINRM)
    over_smb = _scan_demo(tmp_path / "s", Protocol.SMB)
    assert over_winrm.keys() == over_smb.keys()
    differ = {
        k: (over_winrm[k], over_smb[k]) for k in over_winrm if over_winrm[k][0] != over_smb[k][0]
    }
    for (host, kb), ((w_status, w_reason), (s_status, s_reason)) in differ.items():
        # the one honest difference: a process start SMB cannot see
        assert w_status is Status.RESTART_PENDING and "started at" in w_reason, (host, kb)
        assert s_status is Status.COMPLIANT and "not verified" in s_reason, (host, kb)
    assert len(differ) <= 2  # the demo's stale-process hosts, nothing else
    judged = [k for k, (s, _) in over_smb.items() if s is not Status.UNKNOWN]
    assert len(judged) > 60  # most of the fleet was really read over SMB


def test_no_password_in_smb_logs_or_failures(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, plan_kbs: KbSet
) -> None:
    caplog.set_level(logging.DEBUG)
    host = variant("lon-smtp01", "refuse02", smb={"behaviour": "refuse"})
    facts, _ = _collect(host, plan_kbs)
    assert facts.failure is not None
    assert PASSWORD not in caplog.text and PASSWORD not in facts.failure.message
    assert PASSWORD not in repr(SMB)


def test_no_thread_left_behind(plan_kbs: KbSet) -> None:
    before = {t.name for t in threading.enumerate()}
    _collect(_demo("lon-smtp01"), plan_kbs)
    after = {t.name for t in threading.enumerate() if t.name.startswith("kbscan")}
    assert after <= before | {"kbscan-deadlines"}


@pytest.fixture(autouse=True)
def _quiet_impacket() -> Iterator[None]:
    logging.getLogger("impacket").setLevel(logging.CRITICAL)
    yield


def test_cli_scan_over_smb_then_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole command: --protocol smb, the journal, the workbook's Collector column,
    and --resume taking the hosts from the journal as over WinRM."""
    from openpyxl import load_workbook

    monkeypatch.setenv("KBSCAN_PASSWORD", PASSWORD)
    hosts = [variant("lon-smtp01", "s01"), variant("lon-smtp02", "s02"), _demo("nyc-smtp03")]
    out_dir = tmp_path / "out"
    with SimulatedFleet(hosts, USER, PASSWORD, operation_timeout=0.5, smb=True) as fleet:
        inventory = fleet.write_inventory(tmp_path / "inv.csv", transport="ntlm")
        args = ["scan", str(inventory), "--kb", "KB934709", "--output", str(out_dir),
                "--username", USER, "--protocol", "smb", "--no-progress", "--deadline", "20"]  # fmt: skip
        out, err = _Stream(), _Stream()
        assert run(args, out, err) == 0, err.getvalue()
        assert "Hosts read over SMB: 3" in out.getvalue()
        again_out, again_err = _Stream(), _Stream()
        assert run([*args, "--resume"], again_out, again_err) == 0, again_err.getvalue()
    assert "3 resumed from the journal" in again_out.getvalue()
    journal = (out_dir / "facts.jsonl").read_text().splitlines()
    assert len(journal) == 3 and all(json.loads(line)["collector"] == "smb" for line in journal)
    book = load_workbook(out_dir / "KB934709-remediation.xlsx", read_only=True)
    rows = list(book["Hosts"].iter_rows(values_only=True))
    column = rows[0].index("Collector")
    assert {r[0]: r[column] for r in rows[1:]} == {"s01": "smb", "s02": "smb", "nyc-smtp03": "smb"}


def test_a_value_larger_than_the_first_buffer_is_read_whole(plan_kbs: KbSet) -> None:
    """PendingFileRenameOperations on a host mid-update runs to kilobytes: the registry
    answers ERROR_MORE_DATA with the size, and the value is asked for again."""
    key = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"
    pairs = [
        f"\\??\\C:\\WINDOWS\\system32\\SET{i:03d}.tmp\\0\\??\\C:\\WINDOWS\\system32\\file{i:03d}.dll"
        for i in range(60)
    ]
    host = variant(
        "lon-smtp01", "midupdate01",
        registry={key: {"PendingFileRenameOperations": ["REG_MULTI_SZ", "\\0".join(pairs)]}},
    )  # fmt: skip
    facts, _ = _collect(host, plan_kbs)
    assert facts.failure is None
    assert facts.pending_renames is not None and len(facts.pending_renames) == 60
    assert facts.pending_renames[59].destination.endswith("file059.dll")


_UPDATES_2003 = "HKLM\\SOFTWARE\\Microsoft\\Updates\\Windows Server 2003\\SP3\\"
_HOTFIX = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Hotfix\\"


@pytest.mark.parametrize(
    ("key", "qfe", "expected"),
    [
        (_UPDATES_2003 + "KB934709-v2", "KB934709-v2", "KB934709-V2"),
        (_UPDATES_2003 + "KB934709v2", "KB934709v2", "KB934709V2"),
    ],
)
def test_hotfix_record_spellings_are_matched_by_number_over_smb_and_winrm(
    tmp_path: Path, plan_kbs: KbSet, key: str, qfe: str, expected: str
) -> None:
    base = _demo("nyc-smtp08")  # SP2, aqueue.dll 6.0.3790.4094 on the QFE branch
    data = json.loads((data_dir() / "demo" / "fleet" / "nyc-smtp08.json").read_text())
    data["registry"] = {key: {"Description": ["REG_SZ", "Hotfix (KB934709)"]}}
    data["wmi"]["Win32_QuickFixEngineering"] = [{"HotFixID": qfe}]
    host = variant("nyc-smtp08", f"rec-{expected.lower()}", registry=data["registry"], wmi=data["wmi"])
    assert base.host == "nyc-smtp08"
    kb934709 = next(kb for kb in plan_kbs.kbs if kb.id == "KB934709")
    over_smb, _ = _collect(host, plan_kbs)
    assert over_smb.failure is None and expected in (over_smb.hotfixes or ())
    with SimulatedFleet([host], USER, PASSWORD, operation_timeout=0.5) as f:
        target = read_inventory(f.write_inventory(tmp_path / "inv.csv", transport="ntlm")).targets[0]
        from kbscan.collect.winrm import WinrmCollector

        over_winrm = WinrmCollector(plan_for(plan_kbs.kbs), WINRM).collect(target, _soon()).facts
    assert over_winrm.failure is None and expected in (over_winrm.hotfixes or ())
    for facts in (over_smb, over_winrm):
        assert evaluate(facts, kb934709).status is not Status.NEEDS_HOTFIX
        assert "installed-update record of KB934709: present" in evaluate(facts, kb934709).evidence


def test_nt_and_2000_q_records_under_the_hotfix_key_are_matched_by_number(
    tmp_path: Path,
) -> None:
    """Windows 2000 records an article of before mid-2003 as Hotfix\\Q<n>; a 2003 host
    has no such key, and a later article was never named Q (no lookup is spent on it)."""
    data = json.loads((data_dir() / "demo" / "fleet" / "lon-smtp01.json").read_text())
    data["wmi"]["Win32_OperatingSystem"][0].update(
        Caption="Microsoft Windows 2000 Server", CSDVersion="Service Pack 4",
        ServicePackMajorVersion=4, Version="5.0.2195", WindowsDirectory="C:\\WINNT",
    )  # fmt: skip
    data["registry"] = {_HOTFIX + "Q323255": {"Installed": ["REG_DWORD", "0x1"]}}
    data["wmi"]["Win32_QuickFixEngineering"] = [{"HotFixID": "Q323255"}]
    host = variant("lon-smtp01", "w2k-rec01", registry=data["registry"], wmi=data["wmi"])
    plan = CollectionPlan(files=(), services=(), exchange=False, hotfix_ids=("KB323255",), processes=())
    endpoint = SmbEndpoint(host, USER, PASSWORD)
    try:
        target = Target(host=host.host, address="127.0.0.1", smb_port=endpoint.address[1])
        over_smb = SmbCollector(plan, SMB).collect(target, _soon()).facts
    finally:
        endpoint.stop()
    assert over_smb.failure is None and over_smb.hotfixes == ("Q323255",)
    with SimulatedFleet([host], USER, PASSWORD, operation_timeout=0.5) as f:
        target = read_inventory(f.write_inventory(tmp_path / "inv.csv", transport="ntlm")).targets[0]
        from kbscan.collect.winrm import WinrmCollector

        over_winrm = WinrmCollector(plan, WINRM).collect(target, _soon()).facts
    assert over_winrm.failure is None and "Q323255" in (over_winrm.hotfixes or ())


def test_a_refused_service_query_costs_that_service_not_the_host(plan_kbs: KbSet) -> None:
    host = variant("lon-smtp01", "scdeny01", extra={"sc_denied": ["SMTPSVC"]})
    facts, _ = _collect(host, plan_kbs, services=("SMTPSVC", "IISADMIN"))
    assert facts.failure is None
    assert facts.service_state("SMTPSVC") == "UNKNOWN"
    assert facts.service_state("IISADMIN") == "RUNNING"  # the other service is still read
    assert facts.os is not None and facts.architecture is Arch.X86
    kb934709 = next(kb for kb in plan_kbs.kbs if kb.id == "KB934709")
    finding = evaluate(facts, kb934709)
    assert finding.status is Status.UNKNOWN
    assert "Simple Mail Transfer Protocol (SMTP) service state (the host refused its query)" in finding.reason


def test_a_server_that_refuses_query_info_key_is_read_by_enumeration(plan_kbs: KbSet) -> None:
    normal, _ = _collect(_demo("nyc-smtp08"), plan_kbs)
    refusing = variant("nyc-smtp08", "nyc-smtp08", extra={"smb_refuse": ["query_info_key"]})
    facts, _ = _collect(refusing, plan_kbs)
    assert facts.failure is None
    assert facts.hotfixes == normal.hotfixes == ("KB934709",)
    assert facts.os == normal.os and facts.files == normal.files


def test_srvsvc_refused_is_said_in_the_blind_spots(plan_kbs: KbSet) -> None:
    facts, _ = _collect(variant("lon-smtp01", "nosrv01", extra={"smb_refuse": ["srvsvc"]}), plan_kbs)
    assert facts.failure is None and facts.system_started is None
    (blind,) = facts.blind_spots
    assert "the Server service's start could not be read (DCE/RPC status 5 (access denied))" in blind
    assert "PendingFileRenameOperations alone" in blind


def test_a_host_that_fails_part_way_keeps_what_was_read(plan_kbs: KbSet) -> None:
    facts, _ = _collect(variant("lon-smtp01", "nofiles01", smb={"behaviour": "admin-denied"}), plan_kbs)
    assert facts.failure is not None
    assert facts.os is not None and facts.os.version == "5.2.3790"
    assert facts.architecture is Arch.X86 and facts.computer_name == "NOFILES01"


def test_dce_rpc_status_codes_are_named_as_such() -> None:
    from impacket.dcerpc.v5.rpcrt import DCERPCException
    from impacket.smbconnection import SessionError

    from kbscan.collect.smb import _call_failure

    assert _call_failure(DCERPCException(error_code=5)) == "DCE/RPC status 5 (access denied)"
    assert _call_failure(SessionError(0xC0000022)) == "NTSTATUS 0xC0000022"
    assert _call_failure(DCERPCException("nca_s_op_rng_error")).startswith("DCE/RPC fault")
