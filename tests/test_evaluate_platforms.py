"""Judging every platform and branch a KB covers: the host's own release (by OS version,
product type and architecture), the row of its service pack, and of the branch its file
is on (5.x: the FileVersion build tag; 6.x: the revision range)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kbscan.collect.offline import FolderFactsSource
from kbscan.evaluate import evaluate
from kbscan.kb.directory import default_source
from kbscan.model import Arch, FileFacts, Finding, HostFacts, KbDefinition, OsFacts, Status
from kbscan.paths import data_dir
from kbscan.versions import parse_version_text
from tests.helpers import make_facts


def _kb(kb_id: str) -> KbDefinition:
    return default_source().load(kb_id)


def _host(
    kb: KbDefinition,
    *,
    version: str,
    product_type: int,
    arch: Arch,
    sp: int,
    files: dict[str, str],
    default: str | None = None,
    hotfixes: tuple[str, ...] = (),
) -> HostFacts:
    """A host holding every checkable file of the KB's tables for its architecture, at the
    version given by name (path tail, lower case) or ``default``; absent otherwise."""
    held: dict[str, FileFacts] = {}
    for row in kb.files:
        if not row.checkable or row.architecture is not arch:
            continue
        tail = row.path.lower().split("\\", 1)[-1]  # system32\x.dll, syswow64\x.dll
        text = files.get(tail, default)
        if text is None:
            continue
        held[row.path.lower()] = FileFacts(
            path=row.path, present=True, version_text=parse_version_text(text)
        )
    return HostFacts(
        host="h",
        collected_at=datetime(2026, 11, 25, tzinfo=UTC),
        system_root="C:\\Windows",
        os=OsFacts("Windows", version, None, sp, product_type),
        architecture=arch,
        services=(),
        products=(),
        hotfixes=hotfixes,
        pending_renames=(),
        files=tuple(held.values()),
    )


def _file(finding: Finding, name: str) -> tuple[Status, str, str | None]:
    (j,) = [j for j in finding.files if j.row.name.lower() == name.lower()]
    return j.status, j.row.path, j.row.service_branch


def _demo(host: str) -> HostFacts:
    folder = data_dir() / "demo" / "collected"
    return next(f for f in FolderFactsSource(folder).read().facts if f.host == host)


def test_gdr_host_above_a_qfe_only_fix_is_suspect() -> None:
    facts = make_facts(sp=2, version="6.0.3790.4186")  # srv03_sp2_gdr, no record of the KB
    finding = evaluate(facts, _kb("KB934709"))
    assert finding.status is Status.SUSPECT
    assert "on the GDR branch, with no record of KB934709" in finding.reason


def test_ldr_file_on_a_gdr_only_row_is_compliant() -> None:
    # KB981506 lists Cng.sys only at 6.1.7600.16385 (GDR); lon-fs02 carries the LDR
    # 6.1.7600.20667, which holds every GDR fix as well.
    finding = evaluate(_demo("lon-fs02"), _kb("KB981506"))
    assert finding.status is Status.COMPLIANT
    assert finding.platform is not None and finding.platform.id == "windows-server-2008-r2"
    assert _file(finding, "Cng.sys")[0] is Status.COMPLIANT


def test_wow_row_on_x64_is_read_under_syswow64() -> None:
    kb = _kb("KB981506")
    native = {"system32\\lsasrv.dll": "6.1.7600.20667", "system32\\drivers\\ksecdd.sys":
              "6.1.7600.20667", "system32\\drivers\\ksecpkg.sys": "6.1.7600.20667",
              "system32\\sspicli.dll": "6.1.7600.20667", "system32\\sspisrv.dll":
              "6.1.7600.20667", "syswow64\\sspicli.dll": "6.1.7600.20667"}  # fmt: skip
    facts = _host(kb, version="6.1.7600", product_type=3, arch=Arch.X64, sp=0,
                  files=native, default="6.1.7600.16385")  # fmt: skip
    finding = evaluate(facts, kb)
    assert finding.status is Status.NEEDS_HOTFIX
    wow = [j for j in finding.files if j.row.wow]
    assert {(j.row.name, j.status) for j in wow} == {
        ("Secur32.dll", Status.NEEDS_HOTFIX),
        ("Sspicli.dll", Status.COMPLIANT),
    }
    assert {j.row.path for j in wow} == {
        "%SystemRoot%\\SysWOW64\\secur32.dll",
        "%SystemRoot%\\SysWOW64\\sspicli.dll",
    }
    # The native Secur32.dll row is 16385 (GDR) and is met; only the WOW64 copy lacks the fix.
    native_secur = [j for j in finding.files if j.row.name == "Secur32.dll" and not j.row.wow]
    assert native_secur[0].status is Status.COMPLIANT
    assert "Windows Server 2008 R2 SP0 x64 LDR" in finding.action


def test_xp_x64_and_server_2003_on_the_same_build() -> None:
    kb = _kb("KB2492386")  # one x64 table for both
    ws = evaluate(_demo("lon-ws03"), kb)
    server = evaluate(_demo("fra-smtp03"), kb)
    assert ws.platform is not None and ws.platform.id == "windows-xp-x64"
    assert server.platform is not None and server.platform.id == "windows-server-2003"
    for finding in (ws, server):
        assert finding.status is Status.NEEDS_HOTFIX
        assert finding.row is not None and finding.row.name == "Waclayers.dll"
        assert finding.row.path == "%SystemRoot%\\SysWOW64\\aclayers.dll"
    # KB934709 is a Server 2003 hotfix: the workstation on 5.2.3790 is not its target.
    assert evaluate(_demo("lon-ws01"), _kb("KB934709")).status is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("product_type", "platform_id"),
    [(1, "windows-vista"), (3, "windows-server-2008"), (2, "windows-server-2008")],
)
def test_server_2008_and_vista_on_the_same_build(product_type: int, platform_id: str) -> None:
    kb = _kb("KB2492386")
    facts = _host(kb, version="6.0.6002", product_type=product_type, arch=Arch.X86, sp=2,
                  files={}, default="6.0.6002.18417")  # fmt: skip
    finding = evaluate(facts, kb)
    assert finding.platform is not None and finding.platform.id == platform_id
    assert finding.status is Status.COMPLIANT, finding.reason
    # SP2's GDR package carries Acres.dll as released (the article prints 6.0.6000.16386);
    # its only SP2 row is LDR, so a GDR host's Acres.dll is not held to it.
    assert any(e.startswith("Acres.dll: on the GDR branch") for e in finding.evidence)


def test_itanium_exists_for_server_2008_only() -> None:
    kb = _kb("KB2492386")
    vista = _host(kb, version="6.0.6002", product_type=1, arch=Arch.IA64, sp=2, files={})
    assert evaluate(vista, kb).reason == "Windows Vista has no ia64 edition"
    server = _host(kb, version="6.0.6002", product_type=3, arch=Arch.IA64, sp=2, files={},
                   default="6.0.6002.22601")  # fmt: skip
    finding = evaluate(server, kb)
    assert finding.status is Status.COMPLIANT
    assert all(j.row.architecture is Arch.IA64 for j in finding.files)


def test_server_2008_r2_has_no_x86_row() -> None:
    kb = _kb("KB981506")
    facts = _host(kb, version="6.1.7600", product_type=3, arch=Arch.X86, sp=0, files={},
                  default="6.1.7600.20667")  # fmt: skip
    finding = evaluate(facts, kb)
    assert finding.status is Status.NOT_APPLICABLE
    assert finding.reason == "Windows Server 2008 R2 has no x86 edition"
    win7 = _host(kb, version="6.1.7600", product_type=1, arch=Arch.X86, sp=0, files={},
                 default="6.1.7600.20667")  # fmt: skip
    assert evaluate(win7, kb).status is Status.COMPLIANT


@pytest.mark.parametrize(
    ("installed", "status", "branch"),
    [
        ("6.0.6002.18000", Status.NEEDS_HOTFIX, "GDR"),  # judged at the GDR row, 18417
        ("6.0.6002.22500", Status.NEEDS_HOTFIX, "LDR"),  # judged at the LDR row, 22601
        ("6.0.6002.18417", Status.COMPLIANT, "GDR"),
        ("6.0.6002.22601", Status.COMPLIANT, "LDR"),
    ],
)
def test_six_x_branch_comes_from_the_revision(installed: str, status: Status, branch: str) -> None:
    kb = _kb("KB2492386")
    facts = _host(kb, version="6.0.6002", product_type=1, arch=Arch.X86, sp=2,
                  files={"system32\\apphlpdm.dll": installed}, default="6.0.6002.22601")  # fmt: skip
    finding = evaluate(facts, kb)
    assert _file(finding, "Apphlpdm.dll") == (
        status, "%SystemRoot%\\system32\\apphlpdm.dll", branch
    )  # fmt: skip
    if status is Status.NEEDS_HOTFIX:
        assert f"Windows Vista SP2 x86 {branch}" in finding.action


def test_a_service_pack_the_kb_has_no_row_for() -> None:
    finding = evaluate(_demo("nyc-fs02"), _kb("KB981506"))  # 2008 R2 SP1, an RTM hotfix
    assert finding.status is Status.NOT_APPLICABLE
    assert finding.reason == (
        "KB981506 has no package for Windows Server 2008 R2 SP1; it requires SP0"
    )


def test_windows_2000_from_stored_facts_by_version_alone() -> None:
    kb = _kb("KB318364")  # no service pack named: the file versions decide
    old = _host(kb, version="5.0.2195", product_type=2, arch=Arch.X86, sp=2, files={
        "system32\\kdcsvc.dll": "5.0.2195.4000"}, default="5.0.2195.5300")  # fmt: skip
    finding = evaluate(old, kb)
    assert finding.platform is not None and finding.platform.id == "windows-2000"
    assert finding.status is Status.NEEDS_HOTFIX
    assert "Kdcsvc.dll 5.0.2195.4000 is older than 5.0.2195.5246" in finding.reason
    sp4 = _host(kb, version="5.0.2195", product_type=2, arch=Arch.X86, sp=4, files={},
                default="5.0.2195.6717")  # fmt: skip
    assert evaluate(sp4, kb).status is Status.COMPLIANT


def test_versionless_rows_are_reported_not_judged() -> None:
    finding = evaluate(_demo("lon-smtp12"), _kb("KB2492386"))
    assert finding.status is Status.COMPLIANT  # at 4844 on the GDR branch
    assert [j.row.name for j in finding.files] == ["Aclayers.dll"]
    assert any("publish no version" in e for e in finding.evidence)
