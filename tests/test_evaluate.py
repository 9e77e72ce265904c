"""Every case of the judge, each asserting the status, the matched row and the versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from kbscan.evaluate import evaluate
from kbscan.model import (
    Arch,
    CollectionFailure,
    Evidence,
    FailureCategory,
    Finding,
    HostFacts,
    KbDefinition,
    Status,
)
from kbscan.versions import FileVersion
from tests.helpers import make_facts

V = FileVersion.parse

# (service pack, arch, below, fixed) for the six rows of the article.
ROWS = [
    (1, "x86", "6.0.3790.1830", "6.0.3790.2950"),
    (2, "x86", "6.0.3790.3959", "6.0.3790.4094"),
    (1, "ia64", "6.0.3790.1830", "6.0.3790.2950"),
    (2, "ia64", "6.0.3790.3959", "6.0.3790.4094"),
    (1, "x64", "6.0.3790.1830", "6.0.3790.2950"),
    (2, "x64", "6.0.3790.3959", "6.0.3790.4094"),
]
ABOVE = {1: "6.0.3790.3001", 2: "6.0.3790.4300"}


def assert_row(finding: Finding, sp: int, arch: str, required: str) -> None:
    assert finding.row is not None
    assert (finding.row.service_pack, finding.row.architecture) == (sp, Arch(arch))
    assert finding.required_version == V(required)
    assert finding.service_pack == sp and finding.architecture == Arch(arch)


@pytest.mark.parametrize(("sp", "arch", "below", "fixed"), ROWS)
def test_at_the_fixed_version_is_compliant(
    kb: KbDefinition, sp: int, arch: str, below: str, fixed: str
) -> None:
    f = evaluate(make_facts(sp=sp, arch=arch, version=fixed, hotfix=True), kb)
    assert f.status is Status.COMPLIANT, f.reason
    assert_row(f, sp, arch, fixed)
    assert f.installed_version == V(fixed)
    assert f.decided_by is Evidence.BINARY
    assert f.version_source and "binary VS_FIXEDFILEINFO" in f.version_source
    assert f.action == "None."


@pytest.mark.parametrize(("sp", "arch", "below", "fixed"), ROWS)
def test_below_the_fixed_version_needs_the_hotfix(
    kb: KbDefinition, sp: int, arch: str, below: str, fixed: str
) -> None:
    f = evaluate(make_facts(sp=sp, arch=arch, version=below), kb)
    assert f.status is Status.NEEDS_HOTFIX, f.reason
    assert_row(f, sp, arch, fixed)
    assert f.installed_version == V(below)
    assert f"package for Windows Server 2003 SP{sp} {arch} (Aqueue.dll {fixed})" in f.action
    assert "IIS Admin service (IISADMIN) and every service that depends on it" in f.action


@pytest.mark.parametrize(("sp", "arch", "below", "fixed"), ROWS)
def test_above_the_fixed_version_is_compliant(
    kb: KbDefinition, sp: int, arch: str, below: str, fixed: str
) -> None:
    above = ABOVE[sp]
    f = evaluate(make_facts(sp=sp, arch=arch, version=above, binary=False, hotfix=True), kb)
    assert f.status is Status.COMPLIANT, f.reason
    assert_row(f, sp, arch, fixed)
    assert f.installed_version == V(above)
    assert f.decided_by is Evidence.WMI


def test_above_with_the_binary_read(kb: KbDefinition) -> None:
    f = evaluate(make_facts(sp=2, arch="x86", version="6.0.3790.4300"), kb)
    assert f.status is Status.COMPLIANT
    assert f.installed_version == V("6.0.3790.4300") and f.decided_by is Evidence.BINARY


def test_five_digit_revision_is_no_windows_server_2003_file(kb: KbDefinition) -> None:
    # Above 4094 as a number (and below it as text); but 2003's SP2 branch never reached
    # five digits, so the file cannot be what it claims.
    f = evaluate(make_facts(sp=2, version="6.0.3790.10000", binary=False), kb)
    assert f.status is Status.SUSPECT
    assert "not a Windows Server 2003 build 3790 file" in f.reason


@pytest.mark.parametrize("arch", ["x86", "ia64"])
def test_rtm_needs_the_service_pack_first(kb: KbDefinition, arch: str) -> None:
    f = evaluate(make_facts(sp=0, arch=arch, version="6.0.3790.0", binary=False), kb)
    assert f.status is Status.NEEDS_SERVICE_PACK
    assert_row_remedy = f.row
    assert assert_row_remedy is not None and assert_row_remedy.service_pack == 2
    assert assert_row_remedy.architecture == Arch(arch)
    assert f.required_version == V("6.0.3790.4094")
    assert f.action.startswith("Install Windows Server 2003 Service Pack 2 first, then")
    assert f"SP2 {arch} (Aqueue.dll 6.0.3790.4094)" in f.action
    assert "no service pack" in f.reason


@pytest.mark.parametrize(
    ("version", "status"),
    [("6.0.3790.2950", Status.COMPLIANT), ("6.0.3790.1830", Status.NEEDS_HOTFIX)],
)
def test_x64_reporting_no_service_pack_is_judged_at_sp1(
    kb: KbDefinition, version: str, status: Status
) -> None:
    f = evaluate(make_facts(sp=0, arch="x64", version=version), kb)
    assert f.status is status, f.reason
    assert_row(f, 1, "x64", "6.0.3790.2950")
    assert f.row is not None and f.row.heading == "Windows Server 2003, x64-based versions"
    assert "Service Pack" not in f.action
    assert any("judged as SP1" in e for e in f.evidence)


def test_r2_is_judged_as_its_service_pack(kb: KbDefinition) -> None:
    caption = "Microsoft(R) Windows(R) Server 2003 R2, Enterprise Edition"
    f = evaluate(make_facts(sp=2, caption=caption, version="6.0.3790.3959"), kb)
    assert f.status is Status.NEEDS_HOTFIX
    assert_row(f, 2, "x86", "6.0.3790.4094")


@pytest.mark.parametrize(
    ("os_version", "caption", "product_type"),
    [
        ("6.0.6001", "Microsoft Windows Server 2008 Standard", 3),
        ("5.0.2195", "Microsoft Windows 2000 Server", 3),
        ("6.1.7601", "Microsoft Windows Server 2008 R2 Standard", 3),
        ("5.2.3790", "Microsoft Windows XP Professional x64 Edition", 1),
    ],
)
def test_other_windows_is_not_applicable(
    kb: KbDefinition, os_version: str, caption: str, product_type: int
) -> None:
    facts = make_facts(
        arch="x64", os_version=os_version, caption=caption, product_type=product_type
    )
    f = evaluate(facts, kb)
    assert f.status is Status.NOT_APPLICABLE
    assert caption in f.reason
    assert f.row is None and f.installed_version is None
    assert f.action.startswith("None: ")


def test_domain_controller_is_a_server(kb: KbDefinition) -> None:
    f = evaluate(make_facts(product_type=2, version="6.0.3790.3959"), kb)
    assert f.status is Status.NEEDS_HOTFIX


@pytest.mark.parametrize("exchange", ["2000", "2003"])
def test_exchange_makes_it_not_applicable(kb: KbDefinition, exchange: str) -> None:
    f = evaluate(make_facts(exchange=exchange, version="6.0.3790.3959"), kb)
    assert f.status is Status.NOT_APPLICABLE
    assert f"Exchange Server {exchange} is installed" in f.reason
    assert f.row is None


def test_exchange_2007_is_not_an_exclusion(kb: KbDefinition) -> None:
    f = evaluate(make_facts(arch="x64", exchange="2007", version="6.0.3790.3959"), kb)
    assert f.status is Status.NEEDS_HOTFIX


def test_smtp_absent_is_not_applicable(kb: KbDefinition) -> None:
    f = evaluate(make_facts(smtp=False, version="6.0.3790.3959"), kb)
    assert f.status is Status.NOT_APPLICABLE
    assert "Simple Mail Transfer Protocol (SMTP) service (SMTPSVC) is not installed" in f.reason


def test_aqueue_absent_with_smtp_installed_is_suspect(kb: KbDefinition) -> None:
    f = evaluate(make_facts(version=None), kb)
    assert f.status is Status.SUSPECT
    assert "missing" in f.reason
    assert_row(f, 2, "x86", "6.0.3790.4094")
    assert f.installed_version is None


@pytest.mark.parametrize(
    ("host_arch", "binary_arch"), [("x86", "x64"), ("x64", "ia64"), ("ia64", "x86")]
)
def test_binary_for_another_architecture_is_suspect(
    kb: KbDefinition, host_arch: str, binary_arch: str
) -> None:
    f = evaluate(
        make_facts(sp=2, arch=host_arch, version="6.0.3790.4094", binary_arch=binary_arch), kb
    )
    assert f.status is Status.SUSPECT
    assert f"built for {binary_arch}, but the host is {host_arch}" in f.reason
    assert f"the KB's file is {host_arch}" in f.reason
    assert_row(f, 2, host_arch, "6.0.3790.4094")
    assert f.installed_version == V("6.0.3790.4094")


@pytest.mark.parametrize(
    ("sp", "version", "branch"),
    [(2, "6.0.3790.2950", 1), (1, "6.0.3790.4094", 2), (2, "6.0.3790.1830", 1)],
)
def test_version_from_another_service_packs_branch_is_suspect(
    kb: KbDefinition, sp: int, version: str, branch: int
) -> None:
    f = evaluate(make_facts(sp=sp, version=version), kb)
    assert f.status is Status.SUSPECT
    assert f"from SP{branch}'s range on an SP{sp} host" in f.reason
    assert f.installed_version == V(version)


def test_version_from_another_build_is_suspect(kb: KbDefinition) -> None:
    f = evaluate(make_facts(version="6.0.6001.18000", binary=False), kb)
    assert f.status is Status.SUSPECT
    assert "not a Windows Server 2003 build 3790 file" in f.reason


def test_hotfix_registered_but_file_older_is_suspect(kb: KbDefinition) -> None:
    f = evaluate(make_facts(sp=1, version="6.0.3790.1830", hotfix=True), kb)
    assert f.status is Status.SUSPECT
    assert "recorded as installed" in f.reason
    assert_row(f, 1, "x86", "6.0.3790.2950")
    assert f.installed_version == V("6.0.3790.1830")


def test_pending_rename_of_aqueue_is_restart_pending(kb: KbDefinition) -> None:
    f = evaluate(make_facts(sp=2, version="6.0.3790.3959", hotfix=True, pending=True), kb)
    assert f.status is Status.RESTART_PENDING
    assert "PendingFileRenameOperations" in f.reason
    assert f.action.startswith("Restart the server")
    assert_row(f, 2, "x86", "6.0.3790.4094")


def test_pending_rename_of_another_file_is_ignored(kb: KbDefinition) -> None:
    from kbscan.model import PendingRename

    facts = make_facts(sp=2, version="6.0.3790.3959")
    other = (PendingRename("\\??\\C:\\x.tmp", "!\\??\\C:\\WINDOWS\\system32\\smtpsvc.dll"),)
    f = evaluate(replace(facts, pending_renames=other), kb)
    assert f.status is Status.NEEDS_HOTFIX


def test_process_started_before_the_file_was_written_is_restart_pending(
    kb: KbDefinition,
) -> None:
    facts = make_facts(
        version="6.0.3790.4094",
        hotfix=True,
        modified=datetime(2026, 11, 20, 22, 14, tzinfo=UTC),
        inetinfo_start=datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
    )
    f = evaluate(facts, kb)
    assert f.status is Status.RESTART_PENDING
    assert "inetinfo.exe started" in f.reason
    assert f.action.startswith("Restart the IIS Admin service (IISADMIN)")


def test_gdr_file_above_the_fix_without_record_is_suspect(kb: KbDefinition) -> None:
    f = evaluate(make_facts(version="6.0.3790.4186", hotfix=False), kb)
    assert f.status is Status.SUSPECT
    assert "GDR branch" in f.reason
    assert f.installed_version == V("6.0.3790.4186")


def test_gdr_file_above_the_fix_with_record_is_compliant(kb: KbDefinition) -> None:
    f = evaluate(make_facts(version="6.0.3790.4186", hotfix=True), kb)
    assert f.status is Status.COMPLIANT


def test_wmi_and_binary_disagreeing_is_suspect(kb: KbDefinition) -> None:
    f = evaluate(make_facts(version="6.0.3790.4094", wmi_version="6.0.3790.3959"), kb)
    assert f.status is Status.SUSPECT
    assert "WMI reports 6.0.3790.3959 but the binary says 6.0.3790.4094" in f.reason


def test_binary_beats_wmi_string(kb: KbDefinition) -> None:
    f = evaluate(make_facts(version="6.0.3790.4094", wmi_version=None), kb)
    assert f.status is Status.COMPLIANT and f.decided_by is Evidence.BINARY


def test_record_alone_never_makes_compliant(kb: KbDefinition) -> None:
    f = evaluate(
        make_facts(version="6.0.3790.4094", binary=False, wmi_version=None, hotfix=True), kb
    )
    assert f.status is Status.UNKNOWN
    assert "record alone never proves" in f.reason


@pytest.mark.parametrize("category", list(FailureCategory))
def test_collection_failure_is_unknown_with_its_category(
    kb: KbDefinition, category: FailureCategory
) -> None:
    facts = HostFacts(host="h", failure=CollectionFailure(category, "boom"))
    f = evaluate(facts, kb)
    assert f.status is Status.UNKNOWN
    assert f.reason == f"{category.value}: boom"
    assert f.action and f.decided_by is Evidence.NONE


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"os": None}, "operating system version"),
        ({"architecture": None}, "processor architecture"),
        ({"services": None}, "service state"),
        ({"products": None}, "Exchange Server presence"),
        ({"files": ()}, "Aqueue.dll not collected"),
    ],
)
def test_missing_facts_are_unknown_not_guessed(
    kb: KbDefinition, change: dict[str, object], what: str
) -> None:
    f = evaluate(replace(make_facts(), **change), kb)  # type: ignore[arg-type]
    assert f.status is Status.UNKNOWN
    assert what in f.reason


def test_missing_service_pack_is_unknown(kb: KbDefinition) -> None:
    facts = make_facts()
    assert facts.os is not None
    f = evaluate(replace(facts, os=replace(facts.os, service_pack=None)), kb)
    assert f.status is Status.UNKNOWN and "service pack level" in f.reason


def test_path_matches_without_system_root(kb: KbDefinition) -> None:
    f = evaluate(replace(make_facts(version="6.0.3790.3959"), system_root=None), kb)
    assert f.status is Status.NEEDS_HOTFIX


def test_system_root_on_another_drive(kb: KbDefinition) -> None:
    facts = make_facts(version="6.0.3790.3959")
    moved = tuple(replace(f, path="D:\\WIN2K3\\System32\\InetSrv\\AQUEUE.DLL") for f in facts.files)
    f = evaluate(replace(facts, system_root="D:\\WIN2K3", files=moved), kb)
    assert f.status is Status.NEEDS_HOTFIX


def test_every_finding_carries_host_kb_and_evidence(kb: KbDefinition) -> None:
    f = evaluate(make_facts(host="lon-smtp01"), kb)
    assert (f.host, f.kb_id) == ("lon-smtp01", "KB934709")
    assert any("installed-update record of KB934709" in e for e in f.evidence)
    assert f.reason and "\n" not in f.reason


def test_evaluate_is_deterministic(kb: KbDefinition) -> None:
    facts = make_facts(version="6.0.3790.3959")
    assert evaluate(facts, kb) == evaluate(facts, kb)


def test_exchange_of_unknown_version_is_not_guessed(kb: KbDefinition) -> None:
    # The probe records an Exchange Setup key without MsiProductMajor/Minor as "unknown":
    # it may be 2000 or 2003 (excluded) or 2007 (not), so the host cannot be judged.
    f = evaluate(make_facts(exchange="unknown", version="6.0.3790.3959"), kb)
    assert f.status is Status.UNKNOWN
    assert "Exchange Server version" in f.reason
